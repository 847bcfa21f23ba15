from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import TimestampedModel

MAX_TOKENS_LIMIT = 64_000


def default_model() -> str:
    return settings.ANTHROPIC_DEFAULT_MODEL


class Agent(TimestampedModel):
    """An LLM persona: who speaks in a flow's conversations, and with which model."""

    workspace = models.ForeignKey(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="agents"
    )
    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    model = models.CharField(max_length=100, default=default_model)
    temperature = models.FloatField(
        default=0.7, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    max_tokens = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(1), MaxValueValidator(MAX_TOKENS_LIMIT)]
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
