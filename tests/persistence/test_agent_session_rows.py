"""Agent session rows are built by hand (no model per write): they must stay exactly what the
``AgentSessionDocument`` model describes, or the read side and the indexes drift apart."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from pydantic import TypeAdapter

from domain.agents.session import AgentSession
from persistence.agent_sessions import session_fields
from persistence.documents import AgentSessionDocument
from tests.persistence.test_codec import instances

# Beanie's own field, and the key the repository sets apart.
NOT_IN_FIELDS = {"revision_id", "id"}


@settings(max_examples=50, suppress_health_check=list(HealthCheck), deadline=None)
@given(instances(AgentSession))
def test_a_hand_built_row_has_every_field_of_the_document_with_its_type(
    session: AgentSession,
) -> None:
    row = session_fields(session)
    model = {
        name: field
        for name, field in AgentSessionDocument.model_fields.items()
        if name not in NOT_IN_FIELDS
    }
    assert set(row) == set(model)
    for name, field in model.items():
        assert TypeAdapter(field.annotation).validate_python(row[name]) == row[name], name
