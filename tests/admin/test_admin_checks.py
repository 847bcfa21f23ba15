"""The scoped admin base refuses, at start-up, the two ways a new admin could hand an
operator another workspace's rows."""

from django.contrib import admin

from agents.models import Agent
from conversations.models import Conversation, Message
from workspaces.admin import WorkspaceScopedAdmin, WorkspaceScopedTabularInline


def test_the_registered_admins_pass_the_tenancy_checks():
    admins = admin.site._registry.values()

    errors = [error for model_admin in admins for error in model_admin.check()]

    assert errors == []


def test_an_inline_that_does_not_narrow_its_relations_is_refused():
    class PlainInline(admin.TabularInline):
        model = Message

    class ScopedInline(WorkspaceScopedTabularInline):
        model = Message

    site = admin.AdminSite(name="scratch")
    site.register(Conversation, WorkspaceScopedAdmin, inlines=[PlainInline])
    site.register(Message, WorkspaceScopedAdmin, inlines=[])

    assert [e.id for e in site.get_model_admin(Conversation).check()] == ["workspaces.E001"]
    site.unregister(Conversation)
    site.register(Conversation, WorkspaceScopedAdmin, inlines=[ScopedInline])
    assert site.get_model_admin(Conversation).check() == []


def test_a_relation_to_a_workspace_model_registered_without_scoping_is_refused():
    site = admin.AdminSite(name="scratch")
    site.register(Agent, admin.ModelAdmin)
    site.register(Conversation, WorkspaceScopedAdmin)

    errors = site.get_model_admin(Conversation).check()

    assert [e.id for e in errors] == ["workspaces.E002"]
    assert "Conversation.agent" in errors[0].msg
