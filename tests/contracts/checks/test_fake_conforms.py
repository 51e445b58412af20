"""schemathesis 4.x against the in-process fake: every phase, positive and negative, zero failures."""

from __future__ import annotations

import schemathesis
from hypothesis import settings
from schemathesis import GenerationMode

from contracts import load_schema
from mockserver import Config, create_app
from tests.conftest import TOKEN

# A restricted token set, so schemathesis's ignored_auth check sees made-up credentials refused.
fake = create_app(Config(seed=5, tokens=frozenset({TOKEN})))
schema = schemathesis.openapi.from_dict(load_schema())
schema.app = fake
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=40)


@schema.parametrize()
def test_fake_keeps_the_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()


class QueuedFlow(schema.as_state_machine()):  # type: ignore[misc]
    pass


TestQueuedFlow = QueuedFlow.TestCase
TestQueuedFlow.settings = settings(max_examples=15, stateful_step_count=4, deadline=None)
