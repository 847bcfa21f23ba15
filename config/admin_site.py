"""The admin, composed: Django's admin site with the operator console (conversations.console)
under /admin/inbox/, a dashboard on the index page, and the service's own beat schedule
read-only. Installed as the default admin site by `config.apps.ConsoleAdminConfig`
(INSTALLED_APPS),
so every app's `admin.py` registers on it and config/urls.py keeps `admin.site.urls`.

It lives in config because the dashboard (config.dashboard) gathers figures from apps on
every layer (conversations, webhooks, core's beat health); no app below may import them
all."""

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

# The console's pages need the apps' admin modules, which register on this site: they
# are imported when first used, after this module has given the site its class.
VIEW = "conversations.view_conversation"


class ConsoleAdminSite(admin.AdminSite):
    site_header = "AI messaging: operator console"
    site_title = "AI messaging"
    index_title = "Dashboard"
    index_template = "admin/console/index.html"

    def get_urls(self) -> list:
        from conversations.console import OperatorConsole

        return OperatorConsole(self).get_urls() + super().get_urls()

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        user = getattr(request, "user", None)
        context["console_inbox_url"] = (
            reverse("admin:inbox", current_app=self.name)
            if user is not None and user.is_active and user.has_perm(VIEW)
            else ""
        )
        return context

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list:
        apps = super().get_app_list(request, app_label)
        if app_label is None and request.user.has_perm(VIEW):
            inbox_url = reverse("admin:inbox", current_app=self.name)
            apps.insert(
                0,
                {
                    "name": "Operator console",
                    "app_label": "console",
                    "app_url": inbox_url,
                    "has_module_perms": True,
                    "models": [
                        {
                            "name": "Inbox",
                            "object_name": "Inbox",
                            "model_name": "inbox",
                            "admin_url": inbox_url,
                            "add_url": None,
                            "view_only": True,
                            "perms": {"view": True},
                        }
                    ],
                },
            )
        return apps

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        from config.dashboard import dashboard_context

        context = {**(extra_context or {}), **dashboard_context(request)}
        return super().index(request, context)


class ServiceTasksReadOnly:
    """The service's own beat entries (settings.CELERY_BEAT_SCHEDULE; every send and
    reply depends on them) can be read, never changed, disabled or deleted here: they
    are declared in code and installed by beat. Other periodic tasks stay editable."""

    @staticmethod
    def _ours(obj: object) -> bool:
        return obj is not None and getattr(obj, "name", None) in settings.CELERY_BEAT_SCHEDULE

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return not self._ours(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return not self._ours(obj) and super().has_delete_permission(request, obj)

    def response_action(self, request: HttpRequest, queryset: QuerySet):
        # Bulk actions (enable, disable, toggle, run, delete) skip the service's entries.
        selected = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        protected = queryset.filter(name__in=list(settings.CELERY_BEAT_SCHEDULE))
        if selected:
            protected = protected.filter(pk__in=selected)
        if protected.exists():
            self.message_user(
                request,
                "The service's own periodic tasks are left as they are: "
                + ", ".join(sorted(protected.values_list("name", flat=True))),
                messages.WARNING,
            )
        ours = list(settings.CELERY_BEAT_SCHEDULE)
        return super().response_action(request, queryset.exclude(name__in=ours))


def protect_service_tasks(site: admin.AdminSite) -> None:
    """Re-registers django_celery_beat's PeriodicTask admin with ServiceTasksReadOnly."""
    from django_celery_beat.models import PeriodicTask

    if site.is_registered(PeriodicTask):
        base = type(site.get_model_admin(PeriodicTask))
        site.unregister(PeriodicTask)
        protected = type("ServicePeriodicTaskAdmin", (ServiceTasksReadOnly, base), {})
        site.register(PeriodicTask, protected)
