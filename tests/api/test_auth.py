"""Who is calling: bearer tokens over HTTP, HS256 with the shared secret and RS256/ES256 through
a JWKS, issuer and audience, and roles. Every refusal is a GraphQL error with a code and a
message naming the problem; none is a 500, a stack trace or a glimpse of the secret."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from domain.identity import Role
from tests.api.client import GraphQLErrors, execute
from tests.api.server import TEST_SECRET, Server, new_org_id, start_server, token

ME = "query { me { subject organizationId roles } }"
POLICIES = "query { organization { id policies { recordingEnabled version } } }"
TEAMS = "query { teams(includeInactive: true) { nodes { name } } }"
CREATE_TEAM = """
mutation($input: CreateTeamInput!) {
  createTeam(input: $input) { __typename }
}
"""
UPDATE_POLICIES = """
mutation($input: UpdatePoliciesInput!) {
  updatePolicies(input: $input) { __typename }
}
"""

ISSUER = "https://idp.example"
AUDIENCE = "omnidesk"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "org": "org-claims",
        "roles": ["ADMIN"],
        "iat": now,
        "exp": now + 600,
    }
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def _hs256(secret: str = TEST_SECRET, **overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), secret, algorithm="HS256")


async def _post(
    server: Server,
    query: str,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        body = {"query": query, "variables": variables or {}}
        return await client.post(server.http_url, json=body, headers=headers)


def _single_error(response: httpx.Response) -> dict[str, Any]:
    """The one GraphQL error of a refused request, after checking nothing else leaked."""
    assert response.status_code == 200, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    assert TEST_SECRET not in response.text
    body = response.json()
    assert body["data"] is None
    assert len(body["errors"]) == 1
    return dict(body["errors"][0])


_RSA_FOR_HS_SERVER = rsa.generate_private_key(public_exponent=65537, key_size=2048)

REFUSED = [
    pytest.param(None, "authentication required", id="no-authorization"),
    pytest.param("Bearer not-a-jwt", "malformed token", id="malformed"),
    pytest.param("Bearer a.b.c", "malformed token", id="malformed-segments"),
    pytest.param("Basic dXNlcjpwYXNz", "Authorization must be 'Bearer <token>'", id="basic"),
    pytest.param(_hs256(), "Authorization must be 'Bearer <token>'", id="bearer-missing"),
    pytest.param("Bearer", "Authorization must be 'Bearer <token>'", id="bearer-alone"),
    pytest.param(
        "Bearer " + _hs256(exp=int(time.time()) - 30, iat=int(time.time()) - 90),
        "token expired",
        id="expired",
    ),
    pytest.param(
        "Bearer " + _hs256(secret="another-secret-that-is-long-enough-for-hs256!"),
        "token signature is invalid",
        id="wrong-signature",
    ),
    pytest.param("Bearer " + _hs256(org=None), 'missing the "org" claim', id="no-org"),
    pytest.param("Bearer " + _hs256(org=""), "non-empty 'sub' and 'org'", id="empty-org"),
    pytest.param("Bearer " + _hs256(sub=None), 'missing the "sub" claim', id="no-sub"),
    pytest.param("Bearer " + _hs256(exp=None), 'missing the "exp" claim', id="no-exp"),
    pytest.param("Bearer " + _hs256(roles=None), "'roles' claim", id="no-roles"),
    pytest.param("Bearer " + _hs256(roles=[]), "'roles' claim", id="empty-roles"),
    pytest.param("Bearer " + _hs256(roles="ADMIN"), "'roles' claim", id="roles-not-a-list"),
    pytest.param("Bearer " + _hs256(roles=["ADMIN", "ROOT"]), "unknown role", id="unknown-role"),
    pytest.param(
        "Bearer " + jwt.encode(_claims(), key=None, algorithm="none"),
        "token algorithm 'none' is not accepted",
        id="alg-none",
    ),
    pytest.param(
        "Bearer " + jwt.encode(_claims(), _RSA_FOR_HS_SERVER, algorithm="RS256"),
        "token algorithm 'RS256' is not accepted",
        id="rs256-without-jwks",
    ),
]


@pytest.mark.parametrize(("authorization", "problem"), REFUSED)
async def test_a_request_without_a_valid_token_is_unauthenticated(
    server: Server, authorization: str | None, problem: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    error = _single_error(await _post(server, ME, headers))
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert problem in error["message"]
    assert error["path"] == ["me"]


async def test_a_valid_token_names_its_subject_organization_and_roles(
    server: Server, org_id: str
) -> None:
    caller = token(org_id, Role.SUPERVISOR, Role.AGENT, subject="sam")
    result = await execute(server, caller, ME)
    assert result["me"] == {
        "subject": "sam",
        "organizationId": org_id,
        "roles": ["AGENT", "SUPERVISOR"],
    }


async def test_a_mutation_with_a_bad_token_changes_nothing(server: Server, org_id: str) -> None:
    expired = "Bearer " + _hs256(org=org_id, exp=int(time.time()) - 5, iat=int(time.time()) - 60)
    response = await _post(
        server, CREATE_TEAM, {"Authorization": expired}, {"input": {"name": "Ghost"}}
    )
    assert _single_error(response)["extensions"] == {"code": "UNAUTHENTICATED"}
    listed = await execute(server, token(org_id, Role.ADMIN), TEAMS)
    assert listed["teams"]["nodes"] == []


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.INTEGRATION])
async def test_only_admins_change_policies(server: Server, org_id: str, role: Role) -> None:
    before = await execute(server, token(org_id, Role.ADMIN), POLICIES)
    with pytest.raises(GraphQLErrors) as refused:
        await execute(
            server,
            token(org_id, role),
            UPDATE_POLICIES,
            {"input": {"recordingEnabled": False}},
        )
    assert refused.value.codes == ["FORBIDDEN"]
    assert refused.value.errors[0]["message"] == "this needs one of the roles: ADMIN"
    assert await execute(server, token(org_id, Role.ADMIN), POLICIES) == before


# --- RS256 / ES256 through a JWKS, with issuer and audience -------------------------------------


class _Jwks:
    """A JSON Web Key Set served over HTTP on 127.0.0.1, counting how often it is fetched."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.fetches = 0
        keys = [
            {
                **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rsa.public_key())),
                "kid": "rsa-1",
            },
            {**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.ec.public_key())), "kid": "ec-1"},
        ]
        for key in keys:
            key["use"] = "sig"
        body = json.dumps({"keys": keys}).encode()
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/.well-known/jwks.json"
        self._thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self._thread.join()


@pytest.fixture(scope="module")
def jwks() -> Iterator[_Jwks]:
    served = _Jwks()
    try:
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module")
def oidc_server(
    mongodb_url: str, tmp_path_factory: pytest.TempPathFactory, jwks: _Jwks
) -> Iterator[Server]:
    """A server that trusts the JWKS and wants this issuer and audience on every token."""
    running = start_server(
        mongodb_url=mongodb_url,
        database=f"auth_{uuid.uuid4().hex[:8]}",
        log_dir=Path(tmp_path_factory.mktemp("oidc-server")),
        extra_env={
            "OMNIDESK_JWKS_URL": jwks.url,
            "OMNIDESK_JWT_ISSUER": ISSUER,
            "OMNIDESK_JWT_AUDIENCE": AUDIENCE,
        },
    )
    try:
        yield running
    finally:
        running.stop()


def _signed(key: Any, algorithm: str, kid: str, **overrides: Any) -> str:
    claims = _claims(**{"iss": ISSUER, "aud": AUDIENCE, **overrides})
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
async def test_a_token_signed_by_a_key_of_the_jwks_is_accepted(
    oidc_server: Server, jwks: _Jwks, algorithm: str
) -> None:
    key, kid = (jwks.rsa, "rsa-1") if algorithm == "RS256" else (jwks.ec, "ec-1")
    org = new_org_id()
    signed = _signed(key, algorithm, kid, org=org, sub="idp-user", roles=["SUPERVISOR"])
    result = await execute(oidc_server, signed, ME)
    assert result["me"] == {"subject": "idp-user", "organizationId": org, "roles": ["SUPERVISOR"]}


def _other_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("make_token", "problem"),
    [
        pytest.param(
            lambda jwks: _signed(_other_rsa(), "RS256", "rsa-1"),
            "token signature is invalid",
            id="another-key-same-kid",
        ),
        pytest.param(
            lambda jwks: _signed(_other_rsa(), "RS256", "not-in-the-jwks"),
            "token signed with an unknown key",
            id="another-key-unknown-kid",
        ),
        pytest.param(
            lambda jwks: _signed(jwks.rsa, "RS256", "rsa-1", iss="https://evil.example"),
            "Invalid issuer",
            id="wrong-issuer",
        ),
        pytest.param(
            lambda jwks: _signed(jwks.rsa, "RS256", "rsa-1", iss=None),
            'missing the "iss" claim',
            id="no-issuer",
        ),
        pytest.param(
            lambda jwks: _signed(jwks.rsa, "RS256", "rsa-1", aud="someone-else"),
            "Audience doesn't match",
            id="wrong-audience",
        ),
        pytest.param(
            lambda jwks: _signed(jwks.rsa, "RS256", "rsa-1", aud=None),
            'missing the "aud" claim',
            id="no-audience",
        ),
        pytest.param(
            lambda jwks: _signed(jwks.rsa, "RS256", "rsa-1", exp=int(time.time()) - 30),
            "token expired",
            id="expired",
        ),
        pytest.param(
            lambda jwks: _hs256(),
            'missing the "iss" claim',
            id="hs256-without-issuer",
        ),
    ],
)
async def test_the_jwks_server_refuses_what_its_keys_issuer_and_audience_do_not_vouch_for(
    oidc_server: Server, jwks: _Jwks, make_token: Any, problem: str
) -> None:
    error = _single_error(
        await _post(oidc_server, ME, {"Authorization": f"Bearer {make_token(jwks)}"})
    )
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert problem in error["message"]


async def test_issuer_and_audience_apply_to_hs256_tokens_too(oidc_server: Server) -> None:
    org = new_org_id()
    good = _hs256(org=org, iss=ISSUER, aud=AUDIENCE)
    assert (await execute(oidc_server, good, ME))["me"]["organizationId"] == org
    error = _single_error(
        await _post(oidc_server, ME, {"Authorization": f"Bearer {_hs256(iss=ISSUER, aud='x')}"})
    )
    assert "Audience doesn't match" in error["message"]


async def test_forged_key_ids_do_not_make_the_server_hammer_the_jwks(
    oidc_server: Server, jwks: _Jwks
) -> None:
    # Given the key set is known to the server
    await execute(oidc_server, _signed(jwks.rsa, "RS256", "rsa-1"), ME)
    before = jwks.fetches
    # When a caller sends many tokens naming key ids the provider never published
    for attempt in range(10):
        forged = _signed(_other_rsa(), "RS256", f"forged-{attempt}")
        error = _single_error(await _post(oidc_server, ME, {"Authorization": f"Bearer {forged}"}))
        assert error["message"] == "token signed with an unknown key"
    # Then the provider is asked again at most once (a refetch per cooldown), not once per token
    assert jwks.fetches - before <= 1
