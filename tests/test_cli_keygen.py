"""``wampcore keygen`` and the client verbs' credential options (adapters/cli.py).

What keygen prints must load as TOML, fit a ``[[realms.principals]]`` table, and verify with
``wampcore.auth``: the printed SCRAM record and WAMP-CRA fields accept the password/secret they
were made from (and nothing else), and the cryptosign pair signs and verifies.
"""

from __future__ import annotations

import io
import random
import stat
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest
from wampcore.adapters import cli

from wampcore.auth import (
    AuthFailed,
    CryptosignClient,
    CryptosignVerifier,
    ScramClient,
    ScramVerifier,
    WampCraClient,
    WampCraVerifier,
    base,
    public_key_of,
)
from wampcore.config import read_config_file
from wampcore.messages import Challenge

pytestmark = pytest.mark.timeout(60)

#: Argon2 parameters that keep the tests fast (the defaults cost about a second).
FAST = ["--iterations", "2", "--memory", "64"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def keygen(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "keygen", *argv)
    assert code == 0, err
    return tomllib.loads(out)


def vkw(authid: str | None) -> dict[str, Any]:
    return {
        "authid": authid,
        "session_id": 5,
        "rng": random.Random(5),
        "now_iso": "2024-05-01T12:00:00.000Z",
        "authrole": "user",
        "authprovider": "static",
    }


def scram_round(record: dict[str, Any], password: str) -> None:
    """One SCRAM exchange between a ScramClient(password) and a ScramVerifier(record)."""
    client = ScramClient("alice", password, random.Random(1))
    verifier = ScramVerifier(record, client.authextra(), **vkw("alice"))
    reply = client.respond(Challenge(method="scram", extra=verifier.challenge_extra()))
    client.check_welcome(verifier.verify(reply))


def cra_round(fields: dict[str, Any], secret: str) -> None:
    verifier = WampCraVerifier(
        fields["secret"],
        salt=fields["salt"],
        iterations=fields["iterations"],
        keylen=fields["keylen"],
        **vkw("alice"),
    )
    reply = WampCraClient(secret).respond(
        Challenge(method="wampcra", extra=verifier.challenge_extra())
    )
    verifier.verify(reply)


# --- cryptosign ---------------------------------------------------------------------------------


def test_cryptosign_pair_signs_and_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    out = keygen(capsys, "cryptosign")
    private, (public,) = out["private_key"], out["cryptosign_keys"]
    assert len(private) == 64 and public_key_of(private) == public
    client = CryptosignClient(private)
    verifier = CryptosignVerifier([public], client.authextra(), **vkw(None))
    verifier.verify(
        client.respond(Challenge(method="cryptosign", extra=verifier.challenge_extra()))
    )
    assert keygen(capsys, "cryptosign")["private_key"] != private  # a new key each time


def test_cryptosign_out_file_is_private(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "client.key"
    out = keygen(capsys, "cryptosign", "--out", str(path))
    assert "private_key" not in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    private = path.read_text().strip()
    assert public_key_of(private) == out["cryptosign_keys"][0]
    # The file is what --private-key reads; an existing file is never overwritten.
    assert cli._read_private_key(str(path)) == private
    code, out_text, err = run(capsys, "keygen", "cryptosign", "--out", str(path))
    assert code == 2 and out_text == "" and err.count("\n") == 1 and "exists" in err
    assert path.read_text().strip() == private


def test_private_key_file_forms(tmp_path: Path) -> None:
    seed = bytes(range(32))
    raw, text, bad = tmp_path / "raw", tmp_path / "hex", tmp_path / "bad"
    raw.write_bytes(seed)
    text.write_text(f"  {seed.hex().upper()}\n")
    bad.write_text("not a key\n")
    assert cli._read_private_key(str(raw)) == seed
    assert cli._read_private_key(str(text)) == seed.hex().upper()
    for path in (bad, tmp_path / "missing"):
        with pytest.raises(cli._Fail) as caught:
            cli._read_private_key(str(path))
        assert caught.value.code == 2


# --- scram --------------------------------------------------------------------------------------


def test_scram_record_verifies_the_same_password(capsys: pytest.CaptureFixture[str]) -> None:
    record = keygen(capsys, "scram", "--password", "pa55word", *FAST)["scram"]
    assert record["kdf"] == "argon2id13" and record["iterations"] == 2 and record["memory"] == 64
    assert set(record) == {"kdf", "salt", "iterations", "memory", "stored_key", "server_key"}
    scram_round(record, "pa55word")
    with pytest.raises(AuthFailed):
        scram_round(record, "wrong")


def test_scram_defaults_and_pbkdf2(capsys: pytest.CaptureFixture[str]) -> None:
    record = keygen(capsys, "scram", "--password", "pw")["scram"]
    assert (record["iterations"], record["memory"]) == (4096, 512)
    pbkdf2 = keygen(capsys, "scram", "--password", "pw", "--kdf", "pbkdf2", "--iterations", "4096")
    assert "memory" not in pbkdf2["scram"] and pbkdf2["scram"]["kdf"] == "pbkdf2"
    scram_round(pbkdf2["scram"], "pw")


def test_scram_password_from_the_environment_and_a_given_salt(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAMPCORE_PASSWORD", "from-env")
    a = keygen(capsys, "scram", "--salt", "00112233445566778899aabbccddeeff", *FAST)["scram"]
    b = keygen(capsys, "scram", "--salt", "00112233445566778899aabbccddeeff", *FAST)["scram"]
    assert a == b and a["salt"] == "00112233445566778899aabbccddeeff"
    scram_round(a, "from-env")


def test_the_records_fit_a_principal_table(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, scram, _ = run(capsys, "keygen", "scram", "--password", "pw", *FAST)
    _, cra, _ = run(capsys, "keygen", "wampcra", "--secret", "s3cret")
    _, keys, _ = run(capsys, "keygen", "cryptosign", "--out", str(tmp_path / "k"))
    path = tmp_path / "router.toml"
    path.write_text(
        textwrap.dedent(
            """
            [[realms]]
            name = "realm1"
            [[realms.principals]]
            authid = "alice"
            role = "user"
            """
        )
        + scram
        + '[[realms.principals]]\nauthid = "bob"\nrole = "user"\n'
        + cra
        + '[[realms.principals]]\nauthid = "carol"\nrole = "user"\n'
        + keys
        + '[[listeners]]\nurl = "ws://127.0.0.1:8080/ws"\n'
    )
    (realm,) = read_config_file(path).router.realms
    alice, bob, carol = realm.principals
    assert alice.methods() == ["scram"] and bob.methods() == ["wampcra"]
    assert carol.methods() == ["cryptosign"]


# --- wampcra ------------------------------------------------------------------------------------


def test_wampcra_fields_verify_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    fields = keygen(capsys, "wampcra", "--secret", "s3cret")
    assert set(fields) == {"secret", "salt", "iterations", "keylen"}
    assert (fields["iterations"], fields["keylen"]) == (1000, 32) and fields["secret"] == "s3cret"
    cra_round(fields, "s3cret")
    with pytest.raises(AuthFailed):
        cra_round(fields, "other")
    given = keygen(
        capsys, "wampcra", "--secret", "s3cret", "--salt", "salt123", "--iterations", "100"
    )
    assert given["salt"] == "salt123" and given["iterations"] == 100
    # The secret itself: routers (wampcore's and Crossbar's) derive the key from it.
    assert given["secret"] == "s3cret"
    cra_round(given, "s3cret")


# --- errors: one line each ----------------------------------------------------------------------


def test_keygen_without_a_secret_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WAMPCORE_PASSWORD", raising=False)
    monkeypatch.delenv("WAMPCORE_SECRET", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO())  # not a terminal: no prompt
    for argv in (["scram"], ["wampcra"], ["wampcra", "--secret", "s", "--keylen", "0"]):
        code, out, err = run(capsys, "keygen", *argv)
        assert code == 2 and out == "" and err.startswith("wampcore: ") and err.count("\n") == 1


def test_a_missing_crypto_extra_names_the_pip_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(base, "extra_needed", lambda method: base.CRYPTO_EXTRA)
    for argv in (["cryptosign"], ["scram", "--password", "pw"]):
        code, out, err = run(capsys, "keygen", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "pip install 'wampcore[crypto]'" in err


# --- the client verbs' credentials --------------------------------------------------------------


def parse(*argv: str) -> Any:
    return cli._parser().parse_args(["call", "ws://127.0.0.1:1/ws", "realm1", "com.p", *argv])


def test_client_options_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in cli.AUTH_ENV.values():
        monkeypatch.delenv(name, raising=False)
    assert cli._auth_options(parse()) == {}
    key = tmp_path / "key"
    key.write_text("ab" * 32)
    opts = cli._auth_options(
        parse("--authid", "a", "--ticket", "t", "--private-key", str(key), "--authrole", "r")
    )
    assert opts == {"authid": "a", "ticket": "t", "private_key": "ab" * 32, "authrole": "r"}
    monkeypatch.setenv("WAMPCORE_AUTHID", "env-id")
    monkeypatch.setenv("WAMPCORE_SECRET", "env-secret")
    monkeypatch.setenv("WAMPCORE_PASSWORD", "env-pw")
    monkeypatch.setenv("WAMPCORE_PRIVATE_KEY", "cd" * 32)
    opts = cli._auth_options(parse("--authmethod", "wampcra", "--authmethod", "anonymous"))
    assert opts == {
        "authid": "env-id",
        "secret": "env-secret",
        "password": "env-pw",
        "private_key": "cd" * 32,
        "authmethods": ["wampcra", "anonymous"],
    }
    assert cli._auth_options(parse("--authid", "flag", "--secret", "s"))["secret"] == "s"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--authmethod", "ticket"], "--ticket"),
        (["--authmethod", "scram", "--authid", "a"], "--password"),
        (["--ticket", "t"], "--authid"),
        (["--private-key", "/nonexistent/key"], "/nonexistent/key"),
    ],
)
def test_client_credential_errors_are_one_usage_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    needle: str,
) -> None:
    for name in cli.AUTH_ENV.values():
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(capsys, "call", "ws://127.0.0.1:1/ws", "realm1", "com.p", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err


def test_help_documents_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["subscribe", "--help"])
    out = " ".join(capsys.readouterr().out.split())  # whatever the terminal width
    for name in cli.AUTH_ENV.values():
        assert name in out
    assert "--private-key FILE" in out and "64 hex digits" in out
