// End-to-end test of Switchboard's homeserver with matrix-js-sdk, the
// library Element is built on. The Go test TestMatrixJSSDK starts a server
// and runs this file with HS_URL pointing at it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

logger.setLevel?.("silent");
logger.disableAll?.();
const baseUrl = process.env.HS_URL;
if (!baseUrl) throw new Error("HS_URL is not set; run this through `make test`");

const run = Date.now().toString(36);

async function register(name) {
  const anon = sdk.createClient({ baseUrl });
  const username = `${name}${run}`;
  const password = `pw-${name}-${run}`;
  let session;
  try {
    await anon.registerRequest({ username, password });
    assert.fail("registration without auth should ask for user-interactive auth");
  } catch (err) {
    assert.equal(err.httpStatus, 401);
    session = err.data.session;
    assert.ok(err.data.flows.some((f) => f.stages.includes("m.login.dummy")));
  }
  await anon.registerRequest({ username, password, auth: { type: "m.login.dummy", session } });
  const loggedIn = await anon.loginWithPassword(username, password);
  const client = sdk.createClient({
    baseUrl,
    userId: loggedIn.user_id,
    accessToken: loggedIn.access_token,
    deviceId: loggedIn.device_id,
  });
  return client;
}

function waitFor(emitter, eventName, predicate, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(eventName, handler);
      reject(new Error(`timed out waiting for ${eventName}`));
    }, timeoutMs);
    function handler(...args) {
      if (predicate(...args)) {
        clearTimeout(timer);
        emitter.off(eventName, handler);
        resolve(args);
      }
    }
    emitter.on(eventName, handler);
  });
}

async function start(client) {
  const ready = waitFor(client, sdk.ClientEvent.Sync, (state) => state === "PREPARED");
  await client.startClient({ initialSyncLimit: 20 });
  await ready;
}

test("two users chat in a room through matrix-js-sdk", async () => {
  const alice = await register("alice");
  const bob = await register("bob");
  try {
    const whoami = await alice.whoami();
    assert.equal(whoami.user_id, alice.getUserId());

    await start(alice);
    await start(bob);

    const aliasName = `chat-${run}`;
    const inviteSeen = waitFor(bob, sdk.RoomEvent.MyMembership, (_room, membership) => membership === "invite");
    const { room_id: roomId } = await alice.createRoom({
      name: "JS room",
      topic: "first topic",
      room_alias_name: aliasName,
      invite: [bob.getUserId()],
      preset: "private_chat",
    });
    const serverName = alice.getUserId().split(":").slice(1).join(":");
    const resolved = await bob.getRoomIdForAlias(`#${aliasName}:${serverName}`);
    assert.equal(resolved.room_id, roomId);

    const [invitedRoom] = await inviteSeen;
    assert.equal(invitedRoom.roomId, roomId);
    await bob.joinRoom(roomId);

    // Messages both ways, seen through each side's sync loop.
    const bobSees = waitFor(bob, sdk.RoomEvent.Timeline, (ev) => ev.getRoomId() === roomId && ev.getContent().body === "hi bob");
    await alice.sendTextMessage(roomId, "hi bob");
    await bobSees;
    const aliceSees = waitFor(alice, sdk.RoomEvent.Timeline, (ev) => ev.getRoomId() === roomId && ev.getContent().body === "hi alice");
    const { event_id: bobMsg } = await bob.sendTextMessage(roomId, "hi alice");
    const [aliceEvent] = await aliceSees;

    // Typing and read receipts reach the other side.
    const typingSeen = waitFor(alice, sdk.RoomMemberEvent.Typing, (_ev, member) => member.userId === bob.getUserId() && member.typing);
    await bob.sendTyping(roomId, true, 10000);
    await typingSeen;
    const receiptSeen = waitFor(bob, sdk.RoomEvent.Receipt, (ev, room) => room.roomId === roomId &&
      Object.values(ev.getContent()).some((r) => r["m.read"] && r["m.read"][alice.getUserId()]));
    await alice.sendReadReceipt(aliceEvent);
    await receiptSeen;

    // Topic, name and avatar changes.
    const topicSeen = waitFor(bob, sdk.RoomStateEvent.Events, (ev) => ev.getType() === "m.room.topic" && ev.getContent().topic === "second topic");
    await alice.setRoomTopic(roomId, "second topic");
    await topicSeen;
    await alice.setRoomName(roomId, "Renamed");
    const upload = await alice.uploadContent(Buffer.from("fake png bytes"), { name: "avatar.png", type: "image/png" });
    assert.match(upload.content_uri, /^mxc:\/\//);
    await alice.sendStateEvent(roomId, "m.room.avatar", { url: upload.content_uri }, "");
    const state = await bob.roomState(roomId);
    assert.equal(state.find((e) => e.type === "m.room.name").content.name, "Renamed");
    assert.equal(state.find((e) => e.type === "m.room.avatar").content.url, upload.content_uri);

    // Media download through the authenticated endpoint.
    const url = bob.mxcUrlToHttp(upload.content_uri, undefined, undefined, undefined, false, true, true);
    const res = await fetch(url, { headers: { Authorization: `Bearer ${bob.getAccessToken()}` } });
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).toString(), "fake png bytes");

    // Redaction reaches the other side.
    const redactionSeen = waitFor(alice, sdk.RoomEvent.Redaction, (ev) => ev.getAssociatedId() === bobMsg);
    await bob.redactEvent(roomId, bobMsg);
    await redactionSeen;

    // Back-pagination: send a batch, then scroll back from a fresh client.
    for (let i = 0; i < 30; i++) await alice.sendTextMessage(roomId, `backlog ${i}`);
    const fresh = sdk.createClient({ baseUrl, userId: bob.getUserId(), accessToken: bob.getAccessToken(), deviceId: bob.getDeviceId() });
    const readyFresh = waitFor(fresh, sdk.ClientEvent.Sync, (s) => s === "PREPARED");
    await fresh.startClient({ initialSyncLimit: 5 });
    await readyFresh;
    const room = fresh.getRoom(roomId);
    for (let i = 0; i < 10 && room.getLiveTimeline().getPaginationToken("b"); i++) {
      await fresh.scrollback(room, 20);
    }
    const bodies = room.getLiveTimeline().getEvents().map((e) => e.getContent().body).filter(Boolean);
    assert.ok(bodies.includes("hi bob"), "scrollback reached the first message");
    assert.ok(bodies.indexOf("backlog 0") < bodies.indexOf("backlog 29"), "timeline in order");
    fresh.stopClient();
  } finally {
    alice.stopClient();
    bob.stopClient();
  }
});
