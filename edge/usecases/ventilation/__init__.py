"""Use case G on the edge: ventilation control of a site's air handler (not a camera analyzer).

* ``config.py``: the site's point map, zones, control, failsafe and purge settings (YAML).
* ``physics.py``: well-mixed zone (CO₂ mass balance, thermal drift), fan law, Wells–Riley.
* ``control.py``: required outdoor air (ASHRAE 62.1 / Japan), feed-forward + PI, fan/damper split.
* ``building.py``, ``bacnet.py``: Modbus TCP and BACnet/IP adapters (read points, write setpoints).
* ``agent.py``: the loop: modes (DCV, purge, override, failsafe), writes, reports, commands.
* ``simulator.py``: a simulated air handler served over Modbus TCP (tests, demo).
* ``sim.py``, ``cli.py``: ``anshin sim ventilation`` (a day under DCV or fixed maximum, from recorded occupancy).
* ``runner.py``: ``VentilationSite``, the agent with its outbox, publisher and command channel (the demo's wiring).
"""
