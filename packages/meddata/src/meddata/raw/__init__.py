"""Raw-source readers: each turns one source into RAW_SCHEMA rows, exactly as the source has them.

No cleaning happens here (the cleaner does it on these rows); unreadable parts are quarantined
or, when the whole input is unusable, raised as an InputError naming the file and the fix.
"""

from meddata.raw.checksums import verify_file
from meddata.raw.medquad import read_medquad
from meddata.raw.result import RawRead
from meddata.raw.sources import SOURCES, Source, read_source
from meddata.raw.wikidoc import read_wikidoc, read_wikidoc_hub

__all__ = [
    "SOURCES",
    "RawRead",
    "Source",
    "read_medquad",
    "read_source",
    "read_wikidoc",
    "read_wikidoc_hub",
    "verify_file",
]
