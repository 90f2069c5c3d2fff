import pytest
from rest_framework.test import APIClient

from accounts import services as account_services


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as():
    """A client authenticated the way scripts are: with a token of ``user``."""

    def make(user) -> APIClient:
        _token, secret = account_services.api_token_create(user=user, name="test")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return client

    return make


@pytest.fixture
def draft_payload():
    def make(**values):
        payload = {
            "title": "Sistema de alerta temprana ante inundaciones en cuencas andinas",
            "summary": "Asistencia técnica para instalar alertas tempranas en cuencas.",
            "description": "El programa ofrece **pasantías** y misiones de expertos.",
            "language": "es",
            "focus_areas": ["sustainable-development-environment"],
        }
        payload.update(values)
        return payload

    return make


COMPLETE = {
    "modality": "south_south",
    "cooperation_type": "technical_assistance",
    "stage": "in_execution",
    "contact_email": "cooperacion@apci.example.org",
    "sdgs": [11, 13],
    "beneficiary_countries": ["BOL", "ECU"],
}
