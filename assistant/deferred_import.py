"""A module that a library imports but the assistant never uses, kept out of memory until something uses it.

faster-whisper's package imports PyAV (FFmpeg's libraries) when it loads, to decode audio files. The
assistant hands it samples, never files, and PyAV is 21 MB of the running assistant's resident memory.
`defer("av")` puts a stand-in in its place: `import av` succeeds at once, and the first use of any of its
attributes imports the real module (so a caller that does decode a file still works, only later).
importlib.util.LazyLoader cannot do this on Python 3.11: the import statement itself reads the module's
__spec__, which makes a LazyLoader module load at once.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types


def defer(name: str) -> None:
    """Stand in for the module `name` until it is used; nothing when it is loaded already or not installed."""
    if name in sys.modules or importlib.util.find_spec(name) is None:
        return
    sys.modules[name] = _Deferred(name)


class _Deferred(types.ModuleType):
    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):  # the import machinery probing (__path__, __file__, ...): not a use
            raise AttributeError(attribute)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        real = importlib.import_module(self.__name__)
        self.__dict__.update(real.__dict__)  # whoever holds the stand-in now finds the real attributes
        return getattr(real, attribute)
