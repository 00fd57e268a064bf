"""Test fixture: a role set in Python that misbehaves on request (see ../README.md).

Never shipped. `authorize` misbehaves as the target's kind says: `raise` raises an
exception it does not catch, `error` answers with a plugin error, `loop` spins forever,
`alloc` allocates without bound; anything else is allowed.
"""

from typing import List

from wit_world import exports
from wit_world.exports.roles import (
    AuthorizationRequest,
    Decision,
    Decision_Allow,
    Permission,
    Role,
    Scope_SingleClient,
)
from wit_world.imports.types import PluginError_Failed
from componentize_py_types import Err


class Roles(exports.Roles):
    def roles(self) -> List[Role]:
        return [
            Role(
                "victim",
                "Victim",
                "Every approval goes to the misbehaving rule.",
                [Permission.APPROVE_TIMESHEETS],
                [Permission.APPROVE_TIMESHEETS],
                Scope_SingleClient(),
            )
        ]

    def authorize(self, request: AuthorizationRequest) -> Decision:
        kind = request.target.kind
        if kind == "raise":
            raise ValueError("asked to raise")
        if kind == "error":
            raise Err(PluginError_Failed("asked to fail"))
        if kind == "loop":
            n = 0
            while True:
                n += 1
        if kind == "alloc":
            hoard = []
            while True:
                hoard.append(bytearray(4 << 20))
        return Decision_Allow()
