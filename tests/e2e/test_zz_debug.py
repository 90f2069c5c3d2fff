import pytest
from accounts.models import Country
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

def test_debug(page, secretariat):
    print("COUNTRIES", Country.objects.count())
    page.goto("/accounts/signup/")
    print(page.locator("#id_country").inner_html()[:300])
    page.get_by_label("Country").select_option(label="Chile")
