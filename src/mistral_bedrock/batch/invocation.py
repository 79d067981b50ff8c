"""What a batch record's ``modelInput`` is (``modelInvocationType``): an InvokeModel body, or a Converse request."""

from __future__ import annotations

import enum

from mistral_bedrock.protocol.operations import OperationName

__all__ = ["InvocationType"]


class InvocationType(str, enum.Enum):
    """``modelInvocationType`` of CreateModelInvocationJob, spelled as the service model spells it [D].

    ``InvokeModel`` (the default) takes each record's ``modelInput`` as the model's native InvokeModel body;
    ``Converse`` (added 2026-02-27) takes the Converse request body without ``modelId``.
    """

    INVOKE_MODEL = "InvokeModel"
    CONVERSE = "Converse"

    @property
    def operation(self) -> OperationName:
        """The on-demand operation that answers one record of this type."""
        return OperationName.CONVERSE if self is InvocationType.CONVERSE else OperationName.INVOKE_MODEL
