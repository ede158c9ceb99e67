/**
 * The chat's browser page: one file, no build step, no external assets.
 *
 * @module
 */

/** The HTML served at `/`. */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>laminar chat</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  .meta { color: #777; }
</style>
<h1>laminar chat</h1>
<form id="join">
  <input id="room" value="lobby" pattern="[a-z0-9-]{1,32}" required>
  <input id="name" placeholder="your name" required>
  <button>Join</button>
</form>
<div id="log"></div>
<form id="say"><input id="text" size="50" autocomplete="off"> <button>Send</button></form>
<script>
  let socket;
  const log = document.getElementById("log");
  const line = (text, cls) => {
    const p = document.createElement("div");
    p.textContent = text;
    if (cls) p.className = cls;
    log.append(p);
    log.scrollTop = log.scrollHeight;
  };
  document.getElementById("join").onsubmit = (event) => {
    event.preventDefault();
    socket?.close();
    const room = document.getElementById("room").value;
    const name = encodeURIComponent(document.getElementById("name").value);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/ws/rooms/" + room + "?name=" + name);
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "message") line(event.name + ": " + event.text);
      else line(event.name + " " + (event.type === "join" ? "joined" : "left") + " (" + event.members.join(", ") + ")", "meta");
    };
    socket.onclose = (event) => line("disconnected (" + event.code + ")", "meta");
  };
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (socket?.readyState === WebSocket.OPEN && input.value) socket.send(input.value);
    input.value = "";
  };
</script>
</html>
`;
