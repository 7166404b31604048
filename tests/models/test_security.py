"""Every MLmodel field is hostile input; archives and temp folders are handled safely."""

from __future__ import annotations

import io
import os
import re
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

import stead.models as sm
from stead.errors import InvalidParameter
from stead.models.paths import private_tempdir, safe_extract


@pytest.fixture
def saved(tmp_path: Path, logistic, frame) -> Path:  # type: ignore[no-untyped-def]
    sm.save_model(logistic, tmp_path / "m", input_example=frame.head(2))
    return tmp_path / "m"


def _edit(model_dir: Path, fn) -> None:  # type: ignore[no-untyped-def]
    doc = yaml.safe_load((model_dir / "MLmodel").read_text())
    fn(doc)
    (model_dir / "MLmodel").write_text(yaml.safe_dump(doc))


def test_loader_module_is_never_imported(saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "stead_hostile_probe.py").write_text("import pathlib; pathlib.Path(__file__).with_name('ran').touch()\n")
    monkeypatch.syspath_prepend(str(probe))
    for name in ("os", "stead_hostile_probe", "subprocess"):
        _edit(saved, lambda d, n=name: d["flavors"]["python_function"].__setitem__("loader_module", n))
        with pytest.raises(InvalidParameter, match=f"loader_module '{name}'"):
            sm.load_model(saved)
    assert "stead_hostile_probe" not in sys.modules
    assert not (probe / "ran").exists()


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "sub/../../x.pkl", "C:\\x.pkl", 123])
def test_model_paths_stay_inside_the_model_dir(saved: Path, path: object) -> None:
    _edit(saved, lambda d: d["flavors"]["sklearn"].__setitem__("pickled_model", path))
    with pytest.raises(InvalidParameter, match="refusing to load|not a relative"):
        sm.load_model(saved)


def test_symlink_out_of_the_model_dir_is_refused(saved: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.pkl"
    (saved / "model.pkl").rename(outside)
    (saved / "model.pkl").symlink_to(outside)
    with pytest.raises(InvalidParameter, match="symlink"):
        sm.load_model(saved)


def test_code_path_outside_is_refused(saved: Path) -> None:
    _edit(saved, lambda d: d["flavors"]["python_function"].__setitem__("code", "../.."))
    with pytest.raises(InvalidParameter, match="code path"):
        sm.load_model(saved, trust=True)


def test_predict_fn_and_format_come_from_a_fixed_list(saved: Path) -> None:
    _edit(saved, lambda d: d["flavors"]["python_function"].__setitem__("predict_fn", "__reduce__"))
    with pytest.raises(InvalidParameter, match="predict_fn"):
        sm.load_model(saved)
    _edit(saved, lambda d: d["flavors"]["python_function"].__setitem__("predict_fn", "predict"))
    _edit(saved, lambda d: d["flavors"]["sklearn"].__setitem__("serialization_format", "marshal"))
    with pytest.raises(InvalidParameter, match="serialization_format"):
        sm.load_model(saved)


def test_xgboost_model_class_comes_from_a_fixed_list(tmp_path: Path, frame, labels) -> None:  # type: ignore[no-untyped-def]
    xgb = pytest.importorskip("xgboost", reason="xgboost is not installed (pip install 'stead[xgboost]')")
    sm.save_model(xgb.XGBRegressor(n_estimators=2).fit(frame, labels), tmp_path / "m")
    _edit(tmp_path / "m", lambda d: d["flavors"]["xgboost"].__setitem__("model_class", "os.system"))
    with pytest.raises(InvalidParameter, match="model_class"):
        sm.load_model(tmp_path / "m")


def test_yaml_python_tags_are_not_constructed(saved: Path) -> None:
    (saved / "MLmodel").write_text("flavors: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(InvalidParameter, match="not valid YAML"):
        sm.load_model(saved)


def test_malformed_signature_is_refused(saved: Path) -> None:
    _edit(saved, lambda d: d.__setitem__("signature", {"inputs": "[{\"type\": \"evil\"}]"}))
    with pytest.raises(InvalidParameter):
        sm.load_model(saved)


def _tar(tmp_path: Path, add) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        ok = tarfile.TarInfo("fine.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        add(tf)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


@pytest.mark.parametrize("member", [
    _member("../escape.txt"),
    _member("/abs.txt"),
    _member("link", tarfile.SYMTYPE, "/etc/passwd"),
    _member("hard", tarfile.LNKTYPE, "fine.txt"),
])
def test_tar_extraction_refuses_escapes_and_links(tmp_path: Path, member: tarfile.TarInfo) -> None:
    archive = _tar(tmp_path, lambda tf: tf.addfile(member, io.BytesIO(b"")))
    with pytest.raises(InvalidParameter):
        safe_extract(archive, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())  # nothing written, not even the good member
    assert not (tmp_path / "escape.txt").exists()


def test_zip_extraction_refuses_escapes(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", "ok")
        zf.writestr("../escape.txt", "x")
    with pytest.raises(InvalidParameter):
        safe_extract(path, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_safe_extract_extracts_plain_archives(tmp_path: Path) -> None:
    archive = _tar(tmp_path, lambda tf: None)
    assert (safe_extract(archive, tmp_path / "out") / "fine.txt").read_bytes() == b"ok"


def test_temp_dirs_are_private() -> None:
    path = private_tempdir()
    try:
        assert path.stat().st_mode & 0o777 == 0o700
    finally:
        path.rmdir()


def test_no_shell_anywhere_in_models() -> None:
    src = Path(sm.__file__).parent
    for file in src.rglob("*.py"):
        text = file.read_text()
        assert not re.search(r"shell\s*=\s*True", text), file
        assert "os.system(" not in text and "os.popen(" not in text, file
