"""Hostile .keras archives get a named ArtifactError before memory is spent (issue 14, item 7)."""

import zipfile

import pytest

import rnncast as rc
from rnncast.interop import keras_h5


def archive(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return path


def patch_headers(path, local_offset, central_offset, value):
    """Overwrite a 2-byte field in every local and central header (flags or method)."""
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        start = data.find(signature)
        while start != -1:
            data[start + offset : start + offset + 2] = value.to_bytes(2, "little")
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def minimal(tmp_path, name="m.keras", weights=b"x"):
    return archive(tmp_path / name, {"config.json": b"{}", "model.weights.h5": weights})


def test_an_inflating_member_is_refused_before_it_is_read_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_h5, "MAX_WEIGHTS_BYTES", 10_000)
    bomb = minimal(tmp_path, weights=bytes(1_000_000))  # 1 MB of zeros deflates to ~1 KB
    assert bomb.stat().st_size < 5_000
    with pytest.raises(rc.ArtifactError, match=r"inflates to more than 10,000 bytes"):
        rc.load_keras(bomb)


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(keras_h5, "MAX_MEMBERS", 3)
    members = {"config.json": b"{}", "model.weights.h5": b"x"}
    members.update({f"junk{i}": b"" for i in range(5)})
    with pytest.raises(rc.ArtifactError, match=r"holds 7 members, over the limit of 3"):
        rc.load_keras(archive(tmp_path / "many.keras", members))


def test_an_unsupported_compression_method_is_an_artifact_error(tmp_path):
    odd = patch_headers(minimal(tmp_path, "odd.keras"), 8, 10, 99)  # method 99: AES
    with pytest.raises(rc.ArtifactError, match=r"odd\.keras: cannot read this \.keras archive"):
        rc.load_keras(odd)


def test_an_encrypted_member_is_an_artifact_error(tmp_path):
    locked = patch_headers(minimal(tmp_path, "locked.keras"), 6, 8, 1)  # flag bit 0: encrypted
    with pytest.raises(rc.ArtifactError, match=r"locked\.keras: cannot read this \.keras archive"):
        rc.load_keras(locked)


def test_a_deeply_nested_config_is_named(tmp_path):
    deep = archive(
        tmp_path / "deep.keras",
        {"config.json": b"[" * 50_000 + b"]" * 50_000, "model.weights.h5": b"x"},
    )
    with pytest.raises(rc.ArtifactError, match=r"config\.json is nested too deeply"):
        rc.load_keras(deep)  # said "cannot read this .keras archive (maximum recursion ...)"
