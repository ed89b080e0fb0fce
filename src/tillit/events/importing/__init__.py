"""Bulk import of event files (JSON Lines or CSV) through the same validation and storage as the
tracking API (tillit.events.tracking.receive_batch). Each chunk and the checkpoint (last line
done) commit together, so a stopped import resumes where it stopped, and a re-run of a finished
file stores nothing twice (messageId).

CSV columns: type, userId, anonymousId, event, name, messageId, timestamp, groupId, previousId,
and ``properties.<key>``, ``traits.<key>``, ``context.<key>`` for nested values.

- ``files``: reading a file in chunks of lines, its key, the rejects file
- ``parsing``: a chunk of lines into a batch to store (pure)
- ``chunks``: the chunks parsed in order, by worker processes for a large file
- ``run``: ``import_file``, storing each chunk with its checkpoint
"""

from tillit.events.importing.files import file_key, write_rejects
from tillit.events.importing.run import FileImportReport, import_file

__all__ = ["FileImportReport", "file_key", "import_file", "write_rejects"]
