package accounts

import (
	"context"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"

	"switchboard/internal/database"
	"switchboard/internal/database/dbtest"
)

func TestChangePassword(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		other := s.login(t, "alice", "correct horse")
		const path = "/_matrix/client/v3/account/password"

		r := s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "battery staple"})
		wantStatus(t, "first round", r, 401, "")
		session, _ := r.body["session"].(string)
		if flows, _ := r.body["flows"].([]any); len(flows) != 1 || session == "" {
			t.Fatalf("UIA body %s", r.raw)
		}
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "battery staple", "auth": passwordAuth("alice", "wrong password", session)})
		wantStatus(t, "wrong password", r, 401, "M_FORBIDDEN")
		if r.body["session"] != session || r.body["flows"] == nil {
			t.Errorf("a failed stage must keep the session and repeat the flows: %s", r.raw)
		}
		// Someone else's password does not authenticate alice.
		s.register(t, "mallory", "mallory's password")
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "battery staple", "auth": passwordAuth("mallory", "mallory's password", session)})
		wantStatus(t, "other user's password", r, 401, "M_FORBIDDEN")
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "short", "auth": passwordAuth("alice", "correct horse", session)})
		wantStatus(t, "weak new password", r, 400, "M_WEAK_PASSWORD")
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "battery staple", "auth": passwordAuth("@alice:example.org", "correct horse", session)})
		wantStatus(t, "right password", r, 200, "")

		if _, err := alice.Whoami(ctx); err != nil {
			t.Errorf("the device that changed the password was logged out: %v", err)
		}
		_, err := other.Whoami(ctx)
		wantErr(t, err, "M_UNKNOWN_TOKEN", 401)
		_, err = s.client(t, "", "").Login(ctx, &mautrix.ReqLogin{
			Type: mautrix.AuthTypePassword, Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, Password: "correct horse",
		})
		wantErr(t, err, "M_FORBIDDEN", 403)
		third := s.login(t, "alice", "battery staple")

		// logout_devices: false keeps the other sessions.
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "third password"})
		session, _ = r.body["session"].(string)
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{
			"new_password": "third password", "logout_devices": false, "auth": passwordAuth("alice", "battery staple", session),
		})
		wantStatus(t, "logout_devices false", r, 200, "")
		if _, err := third.Whoami(ctx); err != nil {
			t.Errorf("logout_devices false logged a device out: %v", err)
		}
		s.login(t, "alice", "third password")

		// A session for one endpoint does not authorise another.
		r = s.do(t, "POST", path, alice.AccessToken, map[string]any{"new_password": "fourth password"})
		session, _ = r.body["session"].(string)
		r = s.do(t, "POST", "/_matrix/client/v3/delete_devices", alice.AccessToken, map[string]any{
			"devices": []string{third.DeviceID.String()}, "auth": passwordAuth("alice", "third password", session),
		})
		if r.status != 401 || r.body["session"] == session {
			t.Errorf("password session used for delete_devices: %d %s", r.status, r.raw)
		}
	})
}

func TestDevices(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db)
		ctx := context.Background()
		alice := s.register(t, "alice", "correct horse")
		phone := s.login(t, "alice", "correct horse")
		tablet := s.login(t, "alice", "correct horse")

		list, err := alice.GetDevicesInfo(ctx)
		if err != nil || len(list.Devices) != 3 {
			t.Fatalf("devices %+v %v", list, err)
		}
		for _, d := range list.Devices {
			if d.LastSeenTS == 0 || d.LastSeenIP != "127.0.0.1" {
				t.Errorf("device %s last seen %d from %q", d.DeviceID, d.LastSeenTS, d.LastSeenIP)
			}
		}

		// Rename.
		if err := alice.SetDeviceInfo(ctx, phone.DeviceID, &mautrix.ReqDeviceInfo{DisplayName: "Phone"}); err != nil {
			t.Fatal(err)
		}
		dev, err := phone.GetDeviceInfo(ctx, phone.DeviceID)
		if err != nil || dev.DisplayName != "Phone" || dev.DeviceID != phone.DeviceID {
			t.Errorf("renamed device %+v %v", dev, err)
		}
		r := s.do(t, "PUT", "/_matrix/client/v3/devices/"+phone.DeviceID.String(), alice.AccessToken, map[string]any{})
		wantStatus(t, "rename without a name", r, 200, "")
		if dev, _ := phone.GetDeviceInfo(ctx, phone.DeviceID); dev.DisplayName != "Phone" {
			t.Errorf("a PUT without display_name changed it to %q", dev.DisplayName)
		}
		_, err = alice.GetDeviceInfo(ctx, "NOSUCHDEVICE")
		wantErr(t, err, "M_NOT_FOUND", 404)
		err = alice.SetDeviceInfo(ctx, "NOSUCHDEVICE", &mautrix.ReqDeviceInfo{DisplayName: "x"})
		wantErr(t, err, "M_NOT_FOUND", 404)

		// Delete one device: UIA, then its token is dead.
		err = alice.DeleteDevice(ctx, phone.DeviceID, &mautrix.ReqDeleteDevice[any]{})
		if httpErr, ok := err.(mautrix.HTTPError); !ok || httpErr.Response.StatusCode != 401 {
			t.Fatalf("delete without auth: %v", err)
		}
		r = s.do(t, "DELETE", "/_matrix/client/v3/devices/"+phone.DeviceID.String(), alice.AccessToken, map[string]any{})
		session, _ := r.body["session"].(string)
		err = alice.DeleteDevice(ctx, phone.DeviceID, &mautrix.ReqDeleteDevice[any]{Auth: passwordAuth("alice", "correct horse", session)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = phone.Whoami(ctx)
		wantErr(t, err, "M_UNKNOWN_TOKEN", 401)

		// delete_devices, including one that does not exist.
		r = s.do(t, "POST", "/_matrix/client/v3/delete_devices", alice.AccessToken, map[string]any{"devices": []string{tablet.DeviceID.String(), "GONE"}})
		session, _ = r.body["session"].(string)
		err = alice.DeleteDevices(ctx, &mautrix.ReqDeleteDevices[any]{
			Devices: []id.DeviceID{tablet.DeviceID, "GONE"}, Auth: passwordAuth("alice", "correct horse", session),
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = tablet.Whoami(ctx)
		wantErr(t, err, "M_UNKNOWN_TOKEN", 401)
		list, err = alice.GetDevicesInfo(ctx)
		if err != nil || len(list.Devices) != 1 || list.Devices[0].DeviceID != alice.DeviceID {
			t.Errorf("devices left %+v %v", list, err)
		}
		r = s.do(t, "POST", "/_matrix/client/v3/delete_devices", alice.AccessToken, map[string]any{})
		wantStatus(t, "delete_devices without devices", r, 400, "M_MISSING_PARAM")
	})
}
