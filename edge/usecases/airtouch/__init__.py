"""Use case D, air-touch: order at a kiosk without touching its screen.

A camera above the kiosk screen faces the customer. Per frame, MediaPipe Hands finds the hand
(:mod:`.detector`); the index fingertip goes through the kiosk's 4-corner homography onto the
screen (:mod:`.geometry`), the hand's size (its knuckle row) gives its distance to the screen plane with a
two-point per-kiosk calibration, both are smoothed by One-Euro filters (:mod:`.filters`) and a
:class:`~.press.PressDetector` turns them into pointer events: ``move``, ``press`` (once per push
through the virtual plane, or after a dwell), ``release`` and ``lost``. :mod:`.bridge` serves those
events to the kiosk page over Server-Sent Events on the kiosk's loopback address; the page (on
central, ``/kiosk/{store}``) draws the cursor and clicks what is pressed. Edge and central share no
code: the page only reads the JSON events.

This is not a camera analyzer of the worker (it publishes no events to central), so it is not in
``edge.usecases.USE_CASES``; it runs as its own process (``anshin airtouch serve``).
:mod:`.traces` records evaluation traces from the real hand photos and :mod:`.evaluate` scores
them (``anshin eval airtouch --json``).
"""
