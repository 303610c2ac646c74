"""Commands from central down to store devices: issue (HTTP), deliver (MQTT ``_cmd`` or the HTTP
long-poll), and record what devices report (MQTT ``_cmd_result`` or HTTP), all in the audit chain."""
