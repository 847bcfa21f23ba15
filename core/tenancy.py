"""Relations between two workspace-owned rows stay inside one workspace.

One generic check for every model: each foreign key whose target has a `workspace`
must point at a row of the instance's own workspace (for a Workspace, itself). Models
call it from clean() (the admin's forms), services call it before they save (the API
and everything else), so no path can link another workspace's flow, agent, sender,
contact or conversation."""

from django.core.exceptions import ValidationError
from django.db import models

from core.errors import ApplicationError


def _owner_workspace_id(instance: models.Model) -> object:
    if instance._meta.label_lower == "workspaces.workspace":
        return instance.pk
    return getattr(instance, "workspace_id", None)


def _has_workspace(model: type[models.Model]) -> bool:
    return any(field.name == "workspace" for field in model._meta.concrete_fields)


def cross_workspace_relations(instance: models.Model) -> dict[str, str]:
    """{field name: reason} for each relation of `instance` that leaves its workspace."""
    own = _owner_workspace_id(instance)
    if own is None:
        return {}
    errors = {}
    for field in instance._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or field.name == "workspace":
            continue
        target_id = getattr(instance, field.attname)
        if target_id is None or not _has_workspace(field.related_model):
            continue
        if field.is_cached(instance):
            target_workspace = getattr(field.get_cached_value(instance), "workspace_id", None)
        else:
            target_workspace = (
                field.related_model._base_manager.filter(pk=target_id)
                .values_list("workspace_id", flat=True)
                .first()
            )
        if target_workspace is not None and target_workspace != own:
            errors[field.name] = f"The {field.verbose_name} belongs to another workspace."
    return errors


def validate_same_workspace(instance: models.Model) -> None:
    """For Model.clean(): a ValidationError naming each relation that leaves."""
    errors = cross_workspace_relations(instance)
    if errors:
        raise ValidationError(errors)


def ensure_same_workspace(instance: models.Model) -> None:
    """For services, before saving: a 400 in the API's error shape, nothing written."""
    errors = cross_workspace_relations(instance)
    if errors:
        field = next(iter(errors))
        raise ApplicationError(
            errors[field],
            code="cross_workspace",
            errors={field: [message] for field, message in errors.items()},
        )
