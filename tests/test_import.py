"""``import stead`` stays light: no database, web or data library is loaded by it."""

from __future__ import annotations

import subprocess
import sys


def test_import_stead_loads_no_heavy_module():
    code = (
        "import sys, stead; heavy = [m for m in ('sqlalchemy','pandas','sklearn','boto3','pyarrow',"
        "'starlette','numpy','alembic','fsspec','httpx') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_names_resolve():
    import stead

    for name in stead.__all__:
        assert getattr(stead, name) is not None
