"""The TOML loader (wampcore.config.load_config / read_config_file) used by ``wampcore router``."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest
from wampcore.adapters.asyncio import SessionAborted, connect, serve

from wampcore.config import (
    ConfigError,
    ConfigFileError,
    HistoryConfig,
    Limits,
    ListenerConfig,
    RealmConfig,
    RouterConfig,
    load_config,
    read_config_file,
)
from wampcore.router import Router

pytestmark = pytest.mark.timeout(60)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "router.toml"
    path.write_text(textwrap.dedent(text))
    return path


def test_every_section_maps_onto_the_dataclasses(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        auto_create_realms = true
        outbound_policy = "disconnect"
        strict_uris = true

        [limits]
        max_message_size = 65536
        handshake_timeout = 3          # an integer is fine for a float field

        [[realms]]
        name = "com.example.one"
        allow_anonymous = false

        [[listeners]]
        url = "rs://127.0.0.1:9000"
        serializers = ["cbor"]
        max_message_size = 1024
        """,
    )
    loaded = read_config_file(path)
    assert loaded.router == RouterConfig(
        realms=[RealmConfig("com.example.one", allow_anonymous=False)],
        auto_create_realms=True,
        limits=Limits(max_message_size=65536, handshake_timeout=3.0),
        outbound_policy="disconnect",
        strict_uris=True,
    )
    assert loaded.listeners == (
        ListenerConfig(url="rs://127.0.0.1:9000", serializers=("cbor",), max_message_size=1024),
    )
    assert load_config(path) == loaded.router
    assert read_config_file(write(tmp_path, "")).router == RouterConfig()


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("[limits]\nhandshake_timeout = -1\n", 2, "limits.handshake_timeout"),
        ("strict_uris = 1\n", 1, "strict_uris"),
        ('[[realms]]\nname = "a"\n[[realms]]\nname = "b"\nextra = 1\n', 5, "realms[1].extra"),
        ('[[listeners]]\nurl = "rs://x:1"\nserializers = "json"\n', 3, "listeners[0].serializers"),
        ("realms = 5\n", 1, "realms"),
        ('[[realms]]\nname = "x"\n[[realms]]\nname = "x"\n', 4, "realms[1].name"),
        ("[[listeners]]\ntls_cert = 'c.pem'\n", 1, "listeners[0]"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        read_config_file(path)
    error = info.value
    assert isinstance(error, ConfigError)  # one family for every configuration problem
    assert (error.filename, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")


def test_realm_history_is_a_nested_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[realms]]
        name = "realm1"
        embedded_authrole = "backend"
        [[realms.history]]
        uri = "com.example.news"
        match = "exact"
        limit = 50
        [[realms.history]]
        uri = "com.example."
        match = "prefix"

        [[realms]]
        name = "realm2"
        [[realms.history]]
        uri = "com.example.news"
        """,
    )
    assert load_config(path).realms == [
        RealmConfig(
            "realm1",
            history=[
                HistoryConfig("com.example.news", match="exact", limit=50),
                HistoryConfig("com.example.", match="prefix"),
            ],
            embedded_authrole="backend",
        ),
        RealmConfig("realm2", history=[HistoryConfig("com.example.news")]),
    ]
    inline = write(tmp_path, '[[realms]]\nname = "a"\nhistory = [{ uri = "com.x", limit = 3 }]\n')
    expected = [RealmConfig("a", history=[HistoryConfig("com.x", limit=3)])]
    assert load_config(inline).realms == expected


HISTORY = '[[realms]]\nname = "a"\n[[realms.history]]\nuri = "com.x"\n'
TWO_REALMS = '[[realms]]\nname = "a"\n[[realms]]\nname = "b"\n[[realms.history]]\nuri = "com.y"\n'


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (HISTORY + "limits = 5\n", 5, "realms[0].history[0].limits", "unknown key"),
        (HISTORY + 'limit = "50"\n', 5, "realms[0].history[0].limit", "expected an integer"),
        (HISTORY + "limit = true\n", 5, "realms[0].history[0].limit", "expected an integer"),
        (HISTORY + "limit = 0\n", 5, "realms[0].history[0].limit", "positive integer"),
        (HISTORY + "limit = 100001\n", 5, "realms[0].history[0].limit", "at most 100000"),
        (HISTORY + 'match = "wildcard"\n', 5, "realms[0].history[0].match", "expected one of"),
        (HISTORY + "[[realms.history]]\n", 5, "realms[0].history[1]", "uri"),
        (
            HISTORY + '[[realms.history]]\nuri = "com.x"\n',
            6,
            "realms[0].history[1].uri",
            "duplicate",
        ),
        (TWO_REALMS + 'match = "any"\n', 7, "realms[1].history[0].match", "expected one of"),
        (
            TWO_REALMS + '[[realms.history]]\nuri = "wamp.session.on_join"\n',
            8,
            "realms[1].history[1].uri",
            "wamp.*",
        ),
        ('[[realms]]\nname = "a"\nhistory = 5\n', 3, "realms[0].history", "expected an array"),
        ('[[realms]]\nname = "a"\nembedded_authrole = ""\n', 3, "realms[0].embedded_authrole", ""),
    ],
)
def test_history_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        read_config_file(path)
    error = info.value
    assert (error.filename, error.line, error.field) == (str(path), line, field)
    assert str(error).startswith(f"{path}:{line}: {field}: ")
    assert problem in str(error)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="cannot read"):
        read_config_file(tmp_path / "missing.toml")
    with pytest.raises(ConfigFileError) as info:
        read_config_file(write(tmp_path, 'a = 1\nb = "unterminated\n'))
    assert info.value.line == 2 and "invalid TOML" in str(info.value)
    (tmp_path / "binary.toml").write_bytes(b"a = 1\n\xff\xfe\n")
    with pytest.raises(ConfigFileError, match="UTF-8") as info:
        read_config_file(tmp_path / "binary.toml")
    assert info.value.line == 2


@pytest.mark.parametrize("auto", [False, True])
def test_realms_are_created_on_the_fly_only_when_the_config_says_so(
    tmp_path: Path, auto: bool
) -> None:
    """wamp-spec §3.1: an unknown realm gets ABORT no_such_realm unless auto-creation is on."""
    config = load_config(write(tmp_path, f"auto_create_realms = {str(auto).lower()}\n"))

    async def test() -> None:
        async with await serve(Router(config), ["rs://127.0.0.1:0"]) as server:
            if auto:
                async with connect(server.urls[0], "com.example.fresh") as s:
                    assert s.session_id is not None
            else:
                with pytest.raises(SessionAborted) as info:
                    await connect(server.urls[0], "com.example.fresh")
                assert info.value.reason == "wamp.error.no_such_realm"

    asyncio.run(asyncio.wait_for(test(), 20))


# --- Authentication and authorization (wamp-spec §4.28) ----------------------------------------

TICKET = "tick-SECRET-8f3a"
CRA_SECRET = "cra-SECRET-41b7"
SCRAM_SALT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture(scope="module")
def credentials() -> dict[str, str]:
    """Real credential values: an Ed25519 public key, a salted WAMP-CRA secret (derived as
    Autobahn's ``derive_key`` computes it) and an argon2id SCRAM verifier."""
    import base64
    import hashlib
    import hmac

    argon2 = pytest.importorskip("argon2.low_level")
    ed25519 = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ed25519")
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    derived = hashlib.pbkdf2_hmac("sha256", b"cra-password", b"salt123", 100, 32)
    salted_password = argon2.hash_secret_raw(
        b"scram-password",
        bytes.fromhex(SCRAM_SALT),
        time_cost=4096,
        memory_cost=512,
        parallelism=1,
        hash_len=32,
        type=argon2.Type.ID,
    )
    client_key = hmac.new(salted_password, b"Client Key", hashlib.sha256).digest()
    return {
        "pubkey": private.public_key().public_bytes_raw().hex(),
        "derived": base64.b64encode(derived).decode("ascii"),
        "stored_key": hashlib.sha256(client_key).hexdigest(),
        "server_key": hmac.new(salted_password, b"Server Key", hashlib.sha256).hexdigest(),
    }


AUTH_EXAMPLE = """\
[[realms]]
name = "authrealm"
allow_anonymous = false
auth_methods = ["cryptosign", "wampcra", "ticket", "scram"]   # router preference order

[[realms.roles]]
name = "frontend"
permissions = [
@FRONTEND_RULE@
]

[[realms.roles]]
name = "reader"
permissions = [
  { uri = "com.example.public.", match = "prefix", call = true, subscribe = true },
  { uri = "com.example.public.admin", match = "exact" },   # all false: the exact rule denies
]

[[realms.principals]]
authid = "ticketuser"
role = "frontend"
ticket = "@ticket@"

[[realms.principals]]
authid = "crauser"
role = "frontend"
secret = "@cra@"                       # wampcra

[[realms.principals]]
authid = "crasalted"
role = "frontend"
secret = "@derived@"
salt = "salt123"
iterations = 100
keylen = 32

[[realms.principals]]
authid = "csuser"
role = "frontend"
cryptosign_keys = ["@pubkey@"]

[[realms.principals]]
authid = "scramuser"
role = "frontend"
@SCRAM@
"""


# The example, line for line (its two long lines are assembled to keep this file
# within the line length); "@name@" marks a credential filled in from the fixture.
FRONTEND_RULE = (
    '  { uri = "", match = "prefix", call = true, register = true, publish = true, '
    "subscribe = true, disclose_caller = true, disclose_publisher = true },"
)
SCRAM = (
    'scram = { kdf = "argon2id13", salt = "@salt@", iterations = 4096, memory = 512, '
    'stored_key = "@stored_key@", server_key = "@server_key@" }'
)


def auth_example(credentials: dict[str, str]) -> str:
    text = AUTH_EXAMPLE.replace("@FRONTEND_RULE@", FRONTEND_RULE).replace("@SCRAM@", SCRAM)
    values = {"ticket": TICKET, "cra": CRA_SECRET, "salt": SCRAM_SALT, **credentials}
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    assert "@" not in text
    return text


def test_the_auth_example_loads(tmp_path: Path, credentials: dict[str, str]) -> None:
    from wampcore.config import PermissionConfig, PrincipalConfig, RoleConfig, ScramConfig

    config = load_config(write(tmp_path, auth_example(credentials)))
    everything = PermissionConfig(
        "",
        "prefix",
        call=True,
        register=True,
        publish=True,
        subscribe=True,
        disclose_caller=True,
        disclose_publisher=True,
    )
    scram = ScramConfig(
        kdf="argon2id13",
        salt=SCRAM_SALT,
        iterations=4096,
        memory=512,
        stored_key=credentials["stored_key"],
        server_key=credentials["server_key"],
    )
    expected = RealmConfig(
        "authrealm",
        allow_anonymous=False,
        auth_methods=["cryptosign", "wampcra", "ticket", "scram"],
        roles=[
            RoleConfig("frontend", [everything]),
            RoleConfig(
                "reader",
                [
                    PermissionConfig("com.example.public.", "prefix", call=True, subscribe=True),
                    PermissionConfig("com.example.public.admin", "exact"),
                ],
            ),
        ],
        principals=[
            PrincipalConfig("ticketuser", "frontend", ticket=TICKET),
            PrincipalConfig("crauser", "frontend", secret=CRA_SECRET),
            PrincipalConfig(
                "crasalted",
                "frontend",
                secret=credentials["derived"],
                salt="salt123",
                iterations=100,
                keylen=32,
            ),
            PrincipalConfig("csuser", "frontend", cryptosign_keys=[credentials["pubkey"]]),
            PrincipalConfig("scramuser", "frontend", scram=scram),
        ],
    )
    assert config.realms == [expected]
    assert config.realms[0].effective_auth_methods == ["cryptosign", "wampcra", "ticket", "scram"]
    assert [p.methods() for p in config.realms[0].principals] == [
        ["ticket"],
        ["wampcra"],
        ["wampcra"],
        ["cryptosign"],
        ["scram"],
    ]
    text = repr(config)
    for secret in (TICKET, CRA_SECRET, credentials["derived"], credentials["stored_key"]):
        assert secret not in text
    # Autobahn's kdf spelling reads as the spec's.
    autobahn = auth_example(credentials).replace('"argon2id13"', '"argon2id-13"')
    assert load_config(write(tmp_path, autobahn)) == config
    # The router accepts it (what it does with it belongs to the router).
    Router(config)


def test_the_module_docstring_sample_loads(tmp_path: Path) -> None:
    import wampcore.config

    doc = wampcore.config.__doc__ or ""
    sample = textwrap.dedent(doc[doc.index("::\n") + 3 :])
    assert "[[realms.principals]]" in sample
    loaded = load_config(write(tmp_path, sample))
    assert loaded.realms[0].principals[0].authid == "joe"
    assert loaded.realms[0].roles[0].name == "reader"


# A realm (lines 1-3) with one role of two rules (lines 4-9); realm-level keys are inserted
# by realm_keys() as line 4, pushing the role down.
BASE = (
    '[[realms]]\nname = "r"\nallow_anonymous = false\n'
    '[[realms.roles]]\nname = "user"\npermissions = [\n'
    '  { uri = "com.a.", match = "prefix", call = true },\n'
    '  { uri = "com.a.b", match = "exact" },\n'
    "]\n"
)
TICKET_USER = f'[[realms.principals]]\nauthid = "joe"\nrole = "user"\nticket = "{TICKET}"\n'
CRA_USER = TICKET_USER.replace("ticket", "secret")
SCRAM_OK = (
    'scram = { kdf = "pbkdf2", salt = "0011", iterations = 4096, '
    f'stored_key = "{"5a" * 32}", server_key = "{"6b" * 32}" }}\n'
)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, (old, text)
    return text.replace(old, new)


def realm_keys(text: str) -> str:
    """BASE with the realm-level keys ``text`` from line 4 on, before the roles."""
    return _replace(BASE, "allow_anonymous = false\n", "allow_anonymous = false\n" + text)


AUTH_ERRORS: list[tuple[str, int, str, str]] = [
    (
        realm_keys('auth_methods = ["password"]\n'),
        4,
        "realms[0].auth_methods[0]",
        "expected one of",
    ),
    (realm_keys('auth_methods = "ticket"\n'), 4, "realms[0].auth_methods", "expected an array"),
    (
        realm_keys('auth_methods = ["ticket", "ticket"]\n') + TICKET_USER,
        4,
        "realms[0].auth_methods[1]",
        "duplicate",
    ),
    (
        realm_keys('auth_methods = ["anonymous"]\n'),
        4,
        "realms[0].auth_methods[0]",
        "allow_anonymous is false",
    ),
    (
        realm_keys('auth_methods = [\n  "ticket",\n  "scram",\n]\n') + TICKET_USER,
        6,
        "realms[0].auth_methods[1]",
        "no principal has credentials for 'scram'",
    ),
    (
        _replace(BASE, "allow_anonymous = false\n", 'auth_methods = ["ticket"]\n') + TICKET_USER,
        3,
        "realms[0].auth_methods",
        'does not list "anonymous"',
    ),
    (
        _replace(BASE, '"com.a.b", match = "exact"', '"com.a.b", match = "regex"'),
        8,
        "realms[0].roles[0].permissions[1].match",
        "expected one of",
    ),
    (
        _replace(BASE, '"com.a.b", match = "exact"', '"com..b", match = "exact"'),
        8,
        "realms[0].roles[0].permissions[1].uri",
        "valid URI",
    ),
    (
        _replace(BASE, '"com.a.b", match = "exact"', '"", match = "wildcard"'),
        8,
        "realms[0].roles[0].permissions[1].uri",
        "valid URI pattern",
    ),
    (
        _replace(BASE, 'match = "exact"', 'match = "exact", allow = true'),
        8,
        "realms[0].roles[0].permissions[1].allow",
        "unknown key",
    ),
    (
        _replace(BASE, "call = true", 'call = "yes"'),
        7,
        "realms[0].roles[0].permissions[0].call",
        "expected true or false",
    ),
    (
        _replace(BASE, '"com.a.b", match = "exact"', '"com.a.", match = "prefix"'),
        8,
        "realms[0].roles[0].permissions[1].uri",
        "duplicate rule",
    ),
    (
        _replace(BASE, "permissions = [", 'permissions = [\n  { match = "prefix" },'),
        7,
        "realms[0].roles[0].permissions[0]",
        "uri",
    ),
    (BASE + BASE[BASE.index("[[realms.roles]]") :], 11, "realms[0].roles[1].name", "duplicate"),
    (
        BASE + TICKET_USER.replace('"user"', '"admin"'),
        12,
        "realms[0].principals[0].role",
        "not declared",
    ),
    (BASE + TICKET_USER + TICKET_USER, 15, "realms[0].principals[1].authid", "duplicate"),
    (
        BASE + '[[realms.principals]]\nauthid = "joe"\nrole = "user"\n',
        10,
        "realms[0].principals[0]",
        "no credentials",
    ),
    (
        BASE + '[[realms.principals]]\nrole = "user"\nticket = "x"\n',
        10,
        "realms[0].principals[0]",
        "authid",
    ),
    (
        BASE + TICKET_USER.replace(f'"{TICKET}"', "12345"),
        13,
        "realms[0].principals[0].ticket",
        "an integer (a secret: value not shown)",
    ),
    (
        BASE + TICKET_USER.replace(f'ticket = "{TICKET}"', f'secret = ["{CRA_SECRET}"]'),
        13,
        "realms[0].principals[0].secret",
        "an array (a secret: value not shown)",
    ),
    (BASE + TICKET_USER.replace(f'"{TICKET}"', '""'), 13, "realms[0].principals[0].ticket", ""),
    (
        BASE + TICKET_USER + 'salt = "s"\niterations = 10\n',
        14,
        "realms[0].principals[0].salt",
        "needs a secret",
    ),
    (
        BASE + CRA_USER + 'salt = "s"\niterations = 10\n',
        10,
        "realms[0].principals[0].keylen",
        "salt, iterations and keylen together",
    ),
    (
        BASE + CRA_USER + 'salt = "s"\niterations = 10\nkeylen = 0\n',
        16,
        "realms[0].principals[0].keylen",
        "positive integer",
    ),
    (
        BASE + TICKET_USER + f'cryptosign_keys = [\n  "{"ab" * 32}",\n  "{"ab" * 31}",\n]\n',
        16,
        "realms[0].principals[0].cryptosign_keys[1]",
        "64 hex digits",
    ),
    (
        BASE + TICKET_USER + f'cryptosign_keys = "{"ab" * 32}"\n',
        14,
        "realms[0].principals[0].cryptosign_keys",
        "expected an array",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, '"pbkdf2"', '"bcrypt"'),
        14,
        "realms[0].principals[0].scram.kdf",
        "expected one of",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, '"pbkdf2"', '"argon2id13"'),
        14,
        "realms[0].principals[0].scram.memory",
        "required for kdf argon2id13",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, '"0011"', '"xyz"'),
        14,
        "realms[0].principals[0].scram.salt",
        "hex digits",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, f'"{"5a" * 32}"', f'"{"5a" * 31}zz"'),
        14,
        "realms[0].principals[0].scram.stored_key",
        "64 hex digits",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, f'"{"5a" * 32}"', "77"),
        14,
        "realms[0].principals[0].scram.stored_key",
        "an integer (a secret: value not shown)",
    ),
    (
        BASE + TICKET_USER + _replace(SCRAM_OK, f', server_key = "{"6b" * 32}"', ""),
        14,
        "realms[0].principals[0].scram",
        "server_key",
    ),
    (BASE + TICKET_USER + "authextra = 5\n", 14, "realms[0].principals[0].authextra", "table"),
    (realm_keys('authenticator = "bad uri"\n'), 4, "realms[0].authenticator", "procedure URI"),
    (
        realm_keys('authenticator = "com.a.auth"\nauthenticator_realm = "com.other"\n'),
        5,
        "realms[0].authenticator_realm",
        "no realm 'com.other'",
    ),
    (
        realm_keys('authenticator_realm = "r"\n'),
        4,
        "realms[0].authenticator_realm",
        "only meaningful with an authenticator",
    ),
    (realm_keys('authorizer = "a b"\n'), 4, "realms[0].authorizer", "procedure URI"),
    (
        BASE.replace("allow_anonymous = false\n", ""),
        1,
        "realms[0].anonymous_role",
        "not declared",
    ),
]
SECRETS = (TICKET, CRA_SECRET, "5a" * 31, "12345", "77")


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"), AUTH_ERRORS, ids=[e[2] for e in AUTH_ERRORS]
)
def test_auth_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, field: str, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        read_config_file(path)
    error = info.value
    assert (error.filename, error.line, error.field) == (str(path), line, field), str(error)
    assert str(error).startswith(f"{path}:{line}: {field}: ")
    assert problem in str(error)
    said = str(error).removeprefix(str(path))  # the temporary path may hold any digits
    for secret in SECRETS:
        assert secret not in said


def test_the_example_base_is_valid(tmp_path: Path) -> None:
    """The fixtures above are one mistake away from valid: without it, they load."""
    for text in (BASE, BASE + TICKET_USER, BASE + TICKET_USER + SCRAM_OK, BASE + CRA_USER):
        load_config(write(tmp_path, text))
    config = load_config(write(tmp_path, realm_keys('auth_methods = ["ticket"]\n') + TICKET_USER))
    assert config.realms[0].effective_auth_methods == ["ticket"]


def test_a_secret_in_a_wrong_place_is_never_quoted(
    tmp_path: Path, credentials: dict[str, str]
) -> None:
    """However the example is broken, no error quotes one of its credentials."""
    text = auth_example(credentials)
    secrets = (TICKET, CRA_SECRET, credentials["derived"], credentials["stored_key"])
    broken = [
        text.replace(f'ticket = "{TICKET}"', f'ticket = ["{TICKET}"]'),
        text.replace(f'secret = "{CRA_SECRET}"', f'secret = {{ value = "{CRA_SECRET}" }}'),
        text.replace('role = "frontend"\nticket', 'role = "nobody"\nticket'),
        text.replace(
            f'stored_key = "{credentials["stored_key"]}"',
            f'stored_key = "{credentials["stored_key"]}0"',
        ),
        text.replace('"ticket", "scram"]', '"ticket", "scram", "anonymous"]'),
    ]
    for variant in broken:
        assert variant != text
        with pytest.raises(ConfigFileError) as info:
            read_config_file(write(tmp_path, variant))
        for secret in secrets:
            assert secret not in str(info.value)
            assert secret not in repr(info.value.args)
