"""The root of a clone of biogrn's repository; the package is its `biogrn/` folder.

Python imports this file as `biogrn` when the clone's parent directory comes first on its path
(the working directory of `python` there). Without it the folder shadowed the installed package
as an empty namespace (`biogrn.regulate` missing) and said nothing. Here it becomes the clone's
package (its `biogrn/` folder, the same code an editable install runs) and says so on stderr.
pytest also imports this file when it collects the repository (silently: it is not a shadow).
"""

import os as _os
import sys as _sys

_package = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "biogrn")
__path__ = [_package]
if __name__ == "biogrn" and "_pytest" not in _sys.modules:
    print(
        f"biogrn: the working directory holds a clone of biogrn's repository ({_os.path.dirname(_package)}), "
        "which Python finds before any installed biogrn: using the package inside it",
        file=_sys.stderr,
    )
with open(_os.path.join(_package, "__init__.py"), encoding="utf-8") as _source:
    exec(compile(_source.read(), _os.path.join(_package, "__init__.py"), "exec"))
