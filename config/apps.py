from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the operator console's site (config.admin_site) as
    `admin.site`. This module imports no model: apps load it before their models."""

    default_site = "config.admin_site.ConsoleAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin.py onto the site
        from django.contrib import admin

        from config.admin_site import protect_service_tasks

        protect_service_tasks(admin.site)
