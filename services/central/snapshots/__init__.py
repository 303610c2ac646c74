"""Evidence and live snapshots: JPEGs uploaded by edge workers, stored by sha256 under
``{data_dir}/snapshots``, shown to signed-in users with faces blurred per role and store profile.

``blobs`` (files), ``images`` (pure pixel functions), ``service`` (uploads and look-ups),
``routes`` (``/api/v1/snapshots``).
"""

from services.central.snapshots.blobs import BlobStore, parse_ref, ref_of
from services.central.snapshots.service import SnapshotRejected

__all__ = ["BlobStore", "SnapshotRejected", "parse_ref", "ref_of"]
