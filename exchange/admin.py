from django.contrib import admin

from exchange.models import SDG, FocusArea


@admin.register(FocusArea)
class FocusAreaAdmin(admin.ModelAdmin):
    list_display = ["name_en", "slug", "position"]
    search_fields = ["name_en", "name_es", "name_pt", "name_fr", "slug"]
    ordering = ["position"]


@admin.register(SDG)
class SDGAdmin(admin.ModelAdmin):
    list_display = ["number", "name_en"]
    search_fields = ["name_en", "name_es", "name_pt", "name_fr"]
