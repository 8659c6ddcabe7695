"""Raw-source readers: each turns one input into a table of text columns, exactly as it has them.

No cleaning happens here (the cleaner does it on the mapped rows). A row a reader cannot read is
quarantined with its reason and line (or, with `strict`, stops the build); an input that is
unusable as a whole raises an InputError naming the file and the fix.
"""

from meddata.raw.checksums import verify_file
from meddata.raw.medquad import read_medquad
from meddata.raw.result import READ_REASONS, RawRead, Table
from meddata.raw.sources import check_inputs, read_source

__all__ = [
    "READ_REASONS",
    "RawRead",
    "Table",
    "check_inputs",
    "read_medquad",
    "read_source",
    "verify_file",
]
