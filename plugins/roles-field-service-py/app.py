"""Field-service roles, written in Python.

The twin of the Rust plugin `roles-field-service`: the same four roles with
the same permissions, built from the same WIT by componentize-py. That the
two components answer the host identically is what shows the WIT, not the
Rust SDK, is the contract.

Every rule fits a static permission list: no role lists a dynamic
permission, so the host never calls `authorize`.
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

# What a client's everyday portal user sees.
CLIENT_USER = [
    Permission.VIEW_JOBS,
    Permission.VIEW_QUOTES,
    Permission.VIEW_ASSETS,
    Permission.VIEW_DOCUMENTS,
    Permission.VIEW_INVOICES,
    Permission.CREATE_WORK_REQUESTS,
    Permission.VIEW_WORK_REQUESTS,
]


def role(id: str, name: str, description: str, permissions: List[Permission]) -> Role:
    """A single-client role without dynamic rules."""
    return Role(id, name, description, permissions, [], Scope_SingleClient())


class Roles(exports.Roles):
    def roles(self) -> List[Role]:
        return [
            role(
                "client-admin",
                "Client admin",
                "Everything in the client's portal, including its users and settings.",
                CLIENT_USER + [Permission.MANAGE_CLIENT_USERS, Permission.PORTAL_SETTINGS],
            ),
            role(
                "client-user",
                "Client user",
                "Jobs, quotes, assets, documents and invoices; files work requests.",
                CLIENT_USER,
            ),
            role(
                "requester",
                "Requester",
                "Files work requests and follows them; sees nothing else.",
                [Permission.CREATE_WORK_REQUESTS, Permission.VIEW_WORK_REQUESTS],
            ),
            role(
                "accounts",
                "Accounts",
                "Invoices and documents, for the client's accounts payable.",
                [Permission.VIEW_INVOICES, Permission.VIEW_DOCUMENTS],
            ),
        ]

    def authorize(self, request: AuthorizationRequest) -> Decision:
        # Never called (no dynamic permissions); allowing keeps the static
        # grant as the answer, as the Rust SDK's default does.
        return Decision_Allow()
