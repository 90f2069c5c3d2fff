"""The sub-region of each Member State, for beneficiary fit in matching."""

from exchange.models import Listing

Region = Listing.Region

BY_ISO3 = {
    **dict.fromkeys(
        ["ATG", "BHS", "BRB", "CUB", "DMA", "DOM", "GRD", "HTI", "JAM", "KNA", "LCA", "VCT",
         "TTO", "BLZ", "GUY", "SUR"],
        Region.CARIBBEAN,
    ),
    **dict.fromkeys(["CRI", "SLV", "GTM", "HND", "NIC", "PAN"], Region.CENTRAL_AMERICA),
    **dict.fromkeys(
        ["ARG", "BOL", "BRA", "CHL", "COL", "ECU", "PRY", "PER", "URY", "VEN"],
        Region.SOUTH_AMERICA,
    ),
    **dict.fromkeys(["CAN", "MEX", "USA"], Region.NORTH_AMERICA),
}  # fmt: skip


def regions_of(iso3: str | None) -> set[str]:
    """The regions a country belongs to, 'the Americas' included."""
    if not iso3:
        return set()
    return {BY_ISO3.get(iso3, Region.AMERICAS), Region.AMERICAS}
