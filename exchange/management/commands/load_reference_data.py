from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Country
from accounts.reference import load_member_states
from exchange.models import SDG, FocusArea
from exchange.reference import load_focus_areas, load_sdgs


class Command(BaseCommand):
    help = "Create or update the Member States, focus areas and SDGs from the shipped files."

    @transaction.atomic
    def handle(self, *args, **options):
        countries = load_member_states(Country)
        areas = load_focus_areas(FocusArea)
        goals = load_sdgs(SDG)
        self.stdout.write(f"{countries} countries, {areas} focus areas, {goals} SDGs loaded.")
