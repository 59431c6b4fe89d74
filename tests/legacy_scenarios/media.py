"""WAV playback and recording, playlists and the conference bridge (the legacy
tutorial's media programs), without calls."""

import math
import os
import struct
import time
import wave

import pjsua as pj
from tests.legacy_scenarios.tracer import T, loopback_lib

for name, seconds in (("tone.wav", 0.5), ("tone2.wav", 0.3)):
    with wave.open(name, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        n = int(16000 * seconds)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 5)))
                               for i in range(n)))

lib = loopback_lib(pj.Lib())
lib.start()
player = T.call("create_player()", lib.create_player, "tone.wav")
T.call("create_player(loop=True)", lib.create_player, filename="tone2.wav", loop=True)
T.call("create_player(missing)", lib.create_player, "missing.wav")
slot = T.call("player_get_slot()", lib.player_get_slot, player)
rec = T.call("create_recorder()", lib.create_recorder, "out.wav")
T.call("create_recorder(bad)", lib.create_recorder, filename="/nonexistent/dir/x.wav")
rslot = T.call("recorder_get_slot()", lib.recorder_get_slot, rec_id=rec)
T.call("conf_connect(player, recorder)", lib.conf_connect, slot, rslot)
time.sleep(0.8)
T.call("conf_get_signal_level(player)", lambda: [v > 0 for v in
                                                 lib.conf_get_signal_level(slot=slot)])
T.call("player_set_pos()", lib.player_set_pos, player, 0)
T.call("player_set_pos(kw)", lib.player_set_pos, player_id=player, pos=100)
T.call("conf_disconnect(player, recorder)", lib.conf_disconnect, slot, rslot)
T.call("recorder_destroy()", lib.recorder_destroy, rec)
T.call("recorder_destroy() again", lib.recorder_destroy, rec)
T.note("recording has audio", os.path.getsize("out.wav") > 1000)
T.call("player_destroy()", lib.player_destroy, player_id=player)
# The slot of a destroyed player: the deliberate difference "slot-of-unknown-player".
pl = T.call("create_playlist()", lib.create_playlist, ["tone.wav", "tone2.wav"])
T.call("create_playlist(kw)", lib.create_playlist, filelist=["tone.wav"], label="mine",
       loop=False)
T.call("create_playlist(missing)", lib.create_playlist, ["missing.wav"])
# Which slot it gets depends on whether the recorder's slot is free yet: the deliberate
# difference "recorder-destroy-waits". A slot of its own is compared.
T.call("playlist_get_slot()", lambda: lib.playlist_get_slot(playlist_id=pl) not in (0, 2))
T.call("playlist_destroy()", lib.playlist_destroy, pl)
T.call("playlist_destroy() again", lib.playlist_destroy, pl)
lib.destroy()
