"""Use case E (opt-in face checkout) at the edge: the enrolment kiosk and the exit camera turn faces
into embeddings here (photos never leave the device), with a quality gate and a liveness cue; central
holds the encrypted templates and decides (see services/contract/usecases/checkout.py).

Not an analyzer of the camera worker: an exit face is sent to central's matching endpoint, never as a
stored event, so a non-member's face leaves no trace.
"""
