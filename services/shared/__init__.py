"""Small pure helpers that edge and central both use (and nothing else does).

* :mod:`services.shared.strict`: the one ``Strict`` pydantic base (unknown keys are errors).
* :mod:`services.shared.boxes`: IoU and non-maximum suppression on xyxy boxes.
* :mod:`services.shared.anonymise`: the one irreversible blur for heads and faces.

Neither side's internals are imported here, so edge and central stay apart.
"""
