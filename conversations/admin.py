from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from conversations.models import Contact, Conversation, Event, Message
from conversations.services import conversation_pause, conversation_resume
from workspaces.admin import (
    ReadOnlyAdminMixin,
    WorkspaceScopedAdmin,
    WorkspaceScopedTabularInline,
)


class MessageInline(ReadOnlyAdminMixin, WorkspaceScopedTabularInline):
    model = Message
    fields = ("created_at", "role", "sender_type", "content", "status", "send_at", "llm_model")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("created_at",)
    show_change_link = True


@admin.register(Contact)
class ContactAdmin(WorkspaceScopedAdmin):
    list_display = ("address", "name", "channel", "workspace", "opted_out_at")
    list_filter = ("channel", "hipaa", ("opted_out_at", admin.EmptyFieldListFilter))
    # A HIPAA contact's name is sealed at rest: found by address only.
    search_fields = ("address", "name")
    # Set once a HIPAA flow reaches the contact, never unset: unticking it would store
    # the name in clear at the next save.
    readonly_fields = ("hipaa",)


@admin.register(Conversation)
class ConversationAdmin(WorkspaceScopedAdmin):
    list_display = ("id", "workspace", "flow", "contact", "channel", "ai_paused", "updated_at")
    list_filter = ("channel", "ai_paused", "hipaa", "flow", "workspace")
    search_fields = ("id", "contact__address", "contact__name")
    list_select_related = ("workspace", "flow", "contact")
    readonly_fields = (
        "id",
        "created_at",
        "updated_at",
        "reply_due_at",
        "reply_started_at",
        "hipaa",
    )
    raw_id_fields = ("flow", "agent", "contact")
    inlines = [MessageInline]
    actions = ("pause_ai", "resume_ai")

    @admin.action(description="Pause the AI (human takeover)", permissions=["change"])
    def pause_ai(self, request: HttpRequest, queryset: QuerySet) -> None:
        for conversation in queryset:
            conversation_pause(conversation=conversation, by=f"admin:{request.user.pk}")
        self.message_user(request, f"Paused the AI in {queryset.count()} conversation(s).")

    @admin.action(description="Resume the AI", permissions=["change"])
    def resume_ai(self, request: HttpRequest, queryset: QuerySet) -> None:
        for conversation in queryset:
            conversation_resume(conversation=conversation)
        self.message_user(request, f"Resumed the AI in {queryset.count()} conversation(s).")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, WorkspaceScopedAdmin):
    list_display = ("id", "conversation", "role", "status", "send_at", "created_at")
    list_filter = ("role", "status")
    search_fields = ("id", "conversation__id", "provider_message_id")
    exclude = ("text",)
    readonly_fields = ("content",)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, WorkspaceScopedAdmin):
    list_display = ("sequence", "type", "workspace", "conversation_id", "created_at")
    list_filter = ("type",)
    search_fields = ("conversation_id",)
