"""The project's policy evaluator, for the tests: it lives in scripts/policy_eval.py (the demo's
data-path authorizer uses it too); this module re-exports it under its old name."""

from scripts.policy_eval import (
    Decision,
    Request,
    Unsupported,
    action_matches,
    arn_like,
    conditions_hold,
    evaluate,
    evaluate_statement,
    is_allowed,
    principal_matches,
    resource_matches,
    string_like,
)

__all__ = [
    "Decision",
    "Request",
    "Unsupported",
    "action_matches",
    "arn_like",
    "conditions_hold",
    "evaluate",
    "evaluate_statement",
    "is_allowed",
    "principal_matches",
    "resource_matches",
    "string_like",
]
