"""The pure evaluation engine: policies, one-enterprise and vectorised evaluation, file I/O.

Usable without Django::

    from kvcredit.scoring import load_policy, evaluate_one, evaluate_frame
"""

from kvcredit.scoring.engine import Evaluation, evaluate_one
from kvcredit.scoring.policy import Policy, builtin_policy_ids, load_policy
from kvcredit.scoring.vector import evaluate_frame

__all__ = [
    "Evaluation",
    "Policy",
    "builtin_policy_ids",
    "evaluate_frame",
    "evaluate_one",
    "load_policy",
]
