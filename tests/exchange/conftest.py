import pytest

from exchange.services import ListingData
from tests import factories


@pytest.fixture
def draft_data():
    """What a form would hand the service for a complete listing."""

    def make(**values):
        base = {
            "title": "Sistema de alerta temprana ante inundaciones en cuencas andinas",
            "summary": "Asistencia técnica para instalar alertas tempranas en cuencas.",
            "description": "El programa ofrece **pasantías** y misiones de expertos.",
            "language": "es",
            "modality": "south_south",
            "cooperation_type": "technical_assistance",
            "stage": "in_execution",
            "contact_email": "cooperacion@apci.example.org",
        }
        base.update(values)
        areas = base.pop("focus_areas", ["sustainable-development-environment"])
        sdgs = base.pop("sdgs", [11, 13])
        return ListingData(
            values=base,
            focus_areas=[factories.focus_area(slug) for slug in areas],
            sdgs=[factories.sdg(n) for n in sdgs],
            beneficiary_countries=[],
        )

    return make
