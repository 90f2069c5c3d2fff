"""One error shape for the whole API (drf-standardized-errors), which also answers the
services' Django validation errors."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions
from rest_framework.settings import api_settings


class ExceptionHandler(BaseExceptionHandler):
    """Services raise Django's ValidationError and PermissionDenied; answer them as a 400 field
    by field and a 403 with the service's reason, in the one error shape."""

    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, DjangoValidationError):
            return exceptions.ValidationError(django_errors(exc))
        if isinstance(exc, PermissionDenied):
            # The services say why (translated); keep it rather than DRF's generic sentence.
            return exceptions.PermissionDenied(str(exc) or None)
        return super().convert_known_exceptions(exc)


def django_errors(exc: DjangoValidationError) -> dict | list:
    """A Django ValidationError as DRF's detail: per field, the form-wide ones as
    ``non_field_errors``; codes kept (``similar`` tells a client to confirm a submission)."""
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
                exceptions.ErrorDetail(message, code=error.code or "invalid")
                for error in errors
                for message in error.messages
            ]
            for field, errors in exc.error_dict.items()
        }
    return {
        api_settings.NON_FIELD_ERRORS_KEY: [
            exceptions.ErrorDetail(message, code=error.code or "invalid")
            for error in exc.error_list
            for message in error.messages
        ]
    }
