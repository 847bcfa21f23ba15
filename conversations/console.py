"""The operator console in the admin: the inbox, a conversation's transcript with its
actions, and the fragment the transcript polls for new messages.

Views are thin: each POST checks the permission the Operators group grants, finds the
conversation among the operator's workspaces (404 otherwise, as for a missing one),
calls one service, writes an audit entry (Django's LogEntry, shown in the object's
history) and redirects back. The admin site wraps every view in `admin_view` (staff
login, CSRF protection, no caching). URL names are in the admin's namespace.
"""

import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages as flash
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from channels.models import Channel
from conversations import inbox
from conversations.inbound import contact_opt_in, contact_opt_out
from conversations.models import Conversation, Message
from conversations.operator_actions import (
    EDITED_BY,
    FAILED,
    RETRY_OF,
    draft_replace,
    message_retry,
    sandbox_say,
    sandbox_start,
)
from conversations.scheduling import message_approve, message_cancel
from conversations.services import (
    conversation_pause,
    conversation_resume,
    conversation_set_state,
    message_send,
)
from core.errors import ApplicationError
from core.lookups import parse_id
from flows.models import MessageFlow
from workspaces.admin import operated_workspace_ids

VIEW = "conversations.view_conversation"
CHANGE_CONVERSATION = "conversations.change_conversation"
CHANGE_CONTACT = "conversations.change_contact"
CHANGE_FLOW = "flows.change_messageflow"
PAGE_SIZE = 50
POLL_SECONDS = 2


class StateForm(forms.Form):
    """The conversation's state (seed 002): what the agent is told besides the history."""

    playbook = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    phase = forms.CharField(required=False, max_length=200)
    system_message = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    context = forms.JSONField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def clean_context(self) -> dict:
        value = self.cleaned_data["context"]
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise forms.ValidationError('The context is a JSON object, e.g. {"plan": "gold"}.')
        return value


class OperatorConsole:
    """The console's views, bound to the admin site that serves them."""

    def __init__(self, site: object) -> None:
        self.site = site

    def get_urls(self) -> list:
        wrap = self.site.admin_view
        one = "inbox/<str:conversation_id>/"
        return [
            path("inbox/try/<str:flow_id>", wrap(self.try_flow), name="inbox_try_flow"),
            path("inbox/", wrap(self.inbox), name="inbox"),
            path(one, wrap(self.conversation), name="inbox_conversation"),
            path(f"{one}transcript", wrap(self.transcript), name="inbox_transcript"),
            path(f"{one}reply", wrap(self.reply), name="inbox_reply"),
            path(f"{one}ai", wrap(self.ai), name="inbox_ai"),
            path(f"{one}contact", wrap(self.contact), name="inbox_contact"),
            path(f"{one}state", wrap(self.state), name="inbox_state"),
            path(
                f"{one}messages/<str:message_id>/<str:action>",
                wrap(self.message),
                name="inbox_message",
            ),
        ]

    def try_flow(self, request: HttpRequest, flow_id: str) -> HttpResponse:
        """ "Try it": the operator chats with the flow's agent as a customer would, in a
        sandbox conversation (the real model; nothing goes to any channel). GET shows
        it; POST says something and waits for the agent's answer."""
        _require(request, CHANGE_FLOW)
        workspace_ids = operated_workspace_ids(request.user)
        flows = MessageFlow.objects.select_related("workspace", "agent")
        if workspace_ids is not None:
            flows = flows.filter(workspace_id__in=workspace_ids)
        pk = parse_id(flow_id)
        flow = flows.filter(pk=pk).first() if pk else None
        if flow is None:
            raise Http404("No such flow.")
        sandbox = None
        sandbox_id = parse_id(request.POST.get("sandbox") or request.GET.get("sandbox"))
        if sandbox_id:
            sandbox = Conversation.objects.filter(pk=sandbox_id, flow=flow, is_sandbox=True).first()
        if request.method == "POST":
            text = request.POST.get("text", "").strip()
            if text:
                sandbox = sandbox or sandbox_start(flow=flow)
                _attempt(request, lambda: sandbox_say(conversation=sandbox, text=text))
            query = f"?sandbox={sandbox.pk}" if sandbox else ""
            return redirect(reverse("admin:inbox_try_flow", args=[flow.pk]) + query)
        context = {
            **self.site.each_context(request),
            **(_transcript_context(sandbox) if sandbox else {"entries": []}),
            "title": f"Try {flow.name}",
            "flow": flow,
            "sandbox": sandbox,
            "can_change": False,
        }
        return TemplateResponse(request, "admin/console/try.html", context)

    # --- pages --------------------------------------------------------------------

    def inbox(self, request: HttpRequest) -> HttpResponse:
        _require(request, VIEW)
        workspace_ids = operated_workspace_ids(request.user)
        filters = _filters(request)
        rows = inbox.inbox(workspace_ids=workspace_ids, filters=filters, now=timezone.now())
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        conversations = list(page.object_list)
        last = inbox.last_messages(c.pk for c in conversations)
        flows = MessageFlow.objects.order_by("name").only("pk", "name")
        if workspace_ids is not None:
            flows = flows.filter(workspace_id__in=workspace_ids)
        context = {
            **self.site.each_context(request),
            "title": "Inbox",
            "page": page,
            "rows": [(c, last.get(c.pk)) for c in conversations],
            "filters": filters,
            "flows": list(flows),
            "channels": Channel.choices,
            "attention_kinds": inbox.ATTENTION,
            "query": _query_without_page(request),
            "is_multi_workspace": workspace_ids is None or len(workspace_ids) > 1,
        }
        return TemplateResponse(request, "admin/console/inbox.html", context)

    def conversation(self, request: HttpRequest, conversation_id: str) -> HttpResponse:
        _require(request, VIEW)
        conversation = _conversation(request, conversation_id)
        user = request.user
        initial = {
            "playbook": conversation.playbook,
            "phase": conversation.phase,
            "system_message": conversation.system_message,
            "context": conversation.context,
        }
        context = {
            **self.site.each_context(request),
            **_transcript_context(conversation),
            "title": str(conversation.contact or conversation),
            "conversation": conversation,
            "paused": conversation.ai_paused_now(timezone.now()),
            "state_form": StateForm(initial=initial),
            "can_change": user.has_perm(CHANGE_CONVERSATION),
            "can_change_contact": user.has_perm(CHANGE_CONTACT),
            "record_url": reverse(
                "admin:conversations_conversation_change", args=[conversation.pk]
            ),
            "history_url": reverse(
                "admin:conversations_conversation_history", args=[conversation.pk]
            ),
            "poll_seconds": POLL_SECONDS,
        }
        return TemplateResponse(request, "admin/console/conversation.html", context)

    @staticmethod
    @require_GET
    def transcript(request: HttpRequest, conversation_id: str) -> HttpResponse:
        """The transcript as an HTML fragment; 204 while the caller's version is current."""
        _require(request, VIEW)
        conversation = _conversation(request, conversation_id)
        version = inbox.transcript_version(conversation)
        if request.GET.get("v") == version:
            return HttpResponse(status=204)
        context = {
            **_transcript_context(conversation, version=version),
            "conversation": conversation,
            "can_change": request.user.has_perm(CHANGE_CONVERSATION),
        }
        response = TemplateResponse(request, "admin/console/_transcript.html", context)
        response["X-Transcript-Version"] = version
        return response

    # --- actions ------------------------------------------------------------------

    @staticmethod
    @require_POST
    def reply(request: HttpRequest, conversation_id: str) -> HttpResponse:
        """The signed-in person writes to the customer: the AI steps back (message_send
        pauses it for an agent message from someone other than the agent)."""
        _require(request, CHANGE_CONVERSATION)
        conversation = _conversation(request, conversation_id)
        text = request.POST.get("text", "").strip()
        if not text:
            flash.error(request, "Write something to send.")
            return _back(conversation)

        def send() -> Message:
            _, message, _ = message_send(
                workspace=conversation.workspace,
                conversation_id=str(conversation.pk),
                flow_id=None,
                sender_id=inbox.person_sender_id(request.user.pk),
                sender_type="agent",
                text=text,
                metadata={"console": True},
                reply_to_message_id=None,
                auto_reply=False,
            )
            return message

        message = _attempt(request, send)
        if message is not None:
            _audit(request, [conversation, message], "Sent a reply as a person; the AI paused.")
            flash.success(request, "Sent. The AI is paused in this conversation.")
        return _back(conversation)

    @staticmethod
    @require_POST
    def ai(request: HttpRequest, conversation_id: str) -> HttpResponse:
        _require(request, CHANGE_CONVERSATION)
        conversation = _conversation(request, conversation_id)
        if request.POST.get("action") == "pause":
            by = inbox.person_sender_id(request.user.pk)
            conversation_pause(conversation=conversation, by=by)
            _audit(request, [conversation], "Paused the AI.")
            flash.success(request, "The AI is paused: it will not answer until resumed.")
        elif request.POST.get("action") == "resume":
            conversation_resume(conversation=conversation)
            _audit(request, [conversation], "Resumed the AI.")
            flash.success(request, "The AI answers again.")
        else:
            raise Http404("Unknown action.")
        return _back(conversation)

    @staticmethod
    @require_POST
    def contact(request: HttpRequest, conversation_id: str) -> HttpResponse:
        _require(request, CHANGE_CONTACT)
        conversation = _conversation(request, conversation_id)
        contact = conversation.contact
        action = request.POST.get("action")
        if contact is None or action not in ("opt_out", "opt_in"):
            raise Http404("No contact, or an unknown action.")
        reason = f"operator {request.user.get_username()} in the admin"
        if action == "opt_out":
            contact_opt_out(contact=contact, reason=reason)
            note = "Opted the contact out; pending messages to them were canceled."
        else:
            contact_opt_in(contact=contact, reason=reason)
            note = "Opted the contact back in."
        _audit(request, [contact, conversation], note)
        flash.success(request, note)
        return _back(conversation)

    @staticmethod
    @require_POST
    def state(request: HttpRequest, conversation_id: str) -> HttpResponse:
        _require(request, CHANGE_CONVERSATION)
        conversation = _conversation(request, conversation_id)
        form = StateForm(request.POST)
        if not form.is_valid():
            for field, errors in form.errors.items():
                flash.error(request, f"{field}: {' '.join(errors)}")
            return _back(conversation)
        conversation_set_state(conversation=conversation, state=form.cleaned_data)
        _audit(request, [conversation], "Changed the state.")
        flash.success(request, "State saved.")
        return _back(conversation)

    @staticmethod
    @require_POST
    def message(
        request: HttpRequest, conversation_id: str, message_id: str, action: str
    ) -> HttpResponse:
        _require(request, CHANGE_CONVERSATION)
        conversation = _conversation(request, conversation_id)
        message = (
            Message.objects.filter(conversation=conversation, pk=parse_id(message_id))
            .select_related("conversation__flow", "conversation__contact")
            .first()
        )
        if message is None:
            raise Http404("No such message in this conversation.")
        by = inbox.person_sender_id(request.user.pk)
        if action == "approve":
            done = _attempt(request, lambda: message_approve(message=message))
            note, shown = "Approved the draft.", "Approved: the message is scheduled."
        elif action == "discard":
            reason = f"Discarded by {request.user.get_username()}."
            done = _attempt(request, lambda: message_cancel(message=message, reason=reason))
            note, shown = "Discarded the draft.", "Discarded."
        elif action == "edit":
            text = request.POST.get("text", "")
            done = _attempt(request, lambda: draft_replace(message=message, text=text, by=by))
            note, shown = "Edited and sent the draft.", "Your edit replaces the draft: scheduled."
        elif action == "retry":
            done = _attempt(request, lambda: message_retry(message=message, by=by))
            note, shown = "Retried a failed send.", "Sending again."
        else:
            raise Http404("Unknown action.")
        if done is not None:
            objects = [conversation, message] if done.pk == message.pk else [conversation, done]
            _audit(request, objects, f"{note} (message {message.pk})")
            flash.success(request, shown)
        return _back(conversation)


# --- helpers --------------------------------------------------------------------------


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _conversation(request: HttpRequest, conversation_id: str) -> Conversation:
    """The conversation among the operator's workspaces; 404 alike for another
    workspace's, a missing one and a malformed id."""
    pk = parse_id(conversation_id)
    queryset = inbox.conversations_in(operated_workspace_ids(request.user)).select_related(
        "workspace", "flow__agent", "agent", "contact"
    )
    conversation = queryset.filter(pk=pk).first() if pk else None
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def _transcript_context(conversation: Conversation, version: str | None = None) -> dict:
    messages = inbox.transcript(conversation)
    people = inbox.people_named(messages)
    retried = {(m.metadata or {}).get(RETRY_OF) for m in messages}
    entries = [
        {
            "message": message,
            "speaker": inbox.speaker(message, conversation, people),
            "edited_by": people.get((message.metadata or {}).get(EDITED_BY, ""), ""),
            "retryable": message.status in FAILED and str(message.pk) not in retried,
        }
        for message in messages
    ]
    return {
        "entries": entries,
        "truncated": len(messages) >= inbox.TRANSCRIPT_LIMIT,
        "version": version or inbox.transcript_version(conversation),
    }


def _attempt(request: HttpRequest, action: Callable[[], Model]) -> Model | None:
    """Runs a service; its refusal (a conflict, a validation error) becomes a message."""
    try:
        return action()
    except ApplicationError as exc:
        flash.error(request, exc.message)
        return None


def _audit(request: HttpRequest, objects: list[Model], message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=request.user.pk,
        queryset=[obj for obj in objects if obj is not None],
        action_flag=CHANGE,
        change_message=message,
    )


def _back(conversation: Conversation) -> HttpResponse:
    return redirect("admin:inbox_conversation", conversation_id=conversation.pk)


def _filters(request: HttpRequest) -> inbox.InboxFilters:
    get = request.GET
    paused = {"yes": True, "no": False}.get(get.get("paused", ""))
    attention = get.get("attention", "")
    flow_id = parse_id(get.get("flow")) if get.get("flow") else None
    return inbox.InboxFilters(
        flow_id=flow_id if isinstance(flow_id, uuid.UUID) else None,
        channel=get.get("channel", "") if get.get("channel") in Channel.values else "",
        attention=attention if attention in inbox.ATTENTION else "",
        paused=paused,
        q=get.get("q", "")[:200],
    )


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
