package api_test

import "strings"

// tenantSettingsCalls are the contract calls of the tenant configuration,
// quota, agreement and data-analysis routes: a good request, each kind of
// refusal, and the ways authentication, the body limit, the rate limit and
// the store fail. They run in order: a quota is created, updated, listed
// and deleted.
func tenantSettingsCalls() []call {
	v := "/v1/" + projA
	type route struct {
		name, method, path, body string
		bigBodyRefused           bool // the document refuses a body that is not its JSON
		good                     []call
	}
	mk := func(name, method, target, body string, a auth, want int, d verdict) call {
		return call{name: name, server: "tenant", method: method, target: target, body: body, auth: a, want: want, doc: d}
	}
	quota := `{"user_id":"contract-user","quota":{"video_time_2d_model":10,"voice_clone_basic":-1}}`
	collections := `{"my_collections":[{"collection_type":"VOICE","collection_ids":["v-1"]}]}`
	window := "?start_time=2021-01-01T00:00:00Z&end_time=2031-01-01T00:00:00Z"
	routes := []route{
		{"bind", "POST", v + "/tenants/bind-resource", `{"asset_id":"asset-1","business_type":"VIDEO_2D"}`, true, []call{
			mk("bind none free", "POST", v+"/tenants/bind-resource", `{"asset_id":"asset-9","business_type":"NOPE"}`, signed, 400, docAccepts),
			mk("bind without business_type", "POST", v+"/tenants/bind-resource", `{"asset_id":"asset-9"}`, signed, 400, docRefuses),
		}},
		{"create quota", "POST", v + "/user/quotas", quota, true, []call{
			mk("create quota again", "POST", v+"/user/quotas", quota, withToken, 409, docAccepts),
			mk("create quota below -1", "POST", v+"/user/quotas", strings.Replace(quota, "10", "-2", 1), signed, 400, docRefuses),
		}},
		{"list quotas", "GET", v + "/user/quotas?limit=10&offset=0&user_id=contract-user", "", false, []call{
			mk("list quotas limit 0", "GET", v+"/user/quotas?limit=0", "", signed, 400, docRefuses),
		}},
		{"update quota", "PUT", v + "/user/quotas/contract-user", `{"quota":{"video_time_2d_model":-1}}`, true, []call{
			mk("update quota of nobody", "PUT", v+"/user/quotas/nobody", `{"quota":{}}`, signed, 400, docAccepts),
		}},
		{"delete quota", "DELETE", v + "/user/quotas/contract-user", "", false, []call{
			mk("delete quota twice", "DELETE", v+"/user/quotas/contract-user", "", signed, 400, docAccepts),
		}},
		{"show service configs", "GET", v + "/tenants/service-configs", "", false, nil},
		{"update service configs", "PUT", v + "/tenants/service-configs", `{"sub_account_control_config":{"separately_controlled":false,"sub_account_type":"IAM_USER"},"is_ai_mark_on":true}`, true, []call{
			mk("update service configs unknown type", "PUT", v+"/tenants/service-configs", `{"sub_account_control_config":{"sub_account_type":"ROOT"}}`, signed, 400, docRefuses),
		}},
		{"set user configuration", "POST", v + "/tenants/user-configurations", collections, true, []call{
			mk("set user configuration unknown type", "POST", v+"/tenants/user-configurations", strings.Replace(collections, "VOICE", "SONG", 1), signed, 400, docRefuses),
		}},
		{"show user configuration", "GET", v + "/tenants/user-configurations?limit=5&offset=0", "", false, []call{
			mk("show user configuration limit 101", "GET", v+"/tenants/user-configurations?limit=101", "", signed, 400, docRefuses),
		}},
		{"delete user configuration", "DELETE", v + "/tenants/user-configurations", collections, true, []call{
			mk("delete user configuration bad id", "DELETE", v+"/tenants/user-configurations", strings.Replace(collections, "v-1", "v 1", 1), signed, 400, docRefuses),
		}},
		{"set notice", "POST", v + "/tenants/notice-configurations", `{"type":"RESOURCE_LEFT","send_msg":true,"properties":"{}"}`, true, []call{
			mk("set notice unknown type", "POST", v+"/tenants/notice-configurations", `{"type":"SOMETIMES"}`, signed, 400, docRefuses),
		}},
		{"show notice", "GET", v + "/tenants/notice-configurations?type=RESOURCE_LEFT", "", false, []call{
			mk("show notice without type", "GET", v+"/tenants/notice-configurations", "", signed, 400, docRefuses),
		}},
		{"sign agreement", "POST", v + "/tenants/service-agreements/signed", "", false, nil},
		{"sign special agreement", "POST", v + "/tenants/special-agreements/signed", `{"agreement_type":"AUTO_PAY","to_sign":true}`, true, []call{
			mk("sign special agreement unknown", "POST", v+"/tenants/special-agreements/signed", `{"agreement_type":"FREE_LUNCH","to_sign":true}`, signed, 400, docRefuses),
		}},
		{"usage data", "GET", v + "/data-analysis" + window + "&unit=HOUR&limit=1000&user_id=u1&business_type=VIDEO_2D&resource_type=video_time_2d_model", "", false, []call{
			mk("usage data without start_time", "GET", v+"/data-analysis?end_time=2031-01-01T00:00:00Z", "", signed, 400, docRefuses),
			mk("usage data limit 1001", "GET", v+"/data-analysis"+window+"&limit=1001", "", signed, 400, docRefuses),
			mk("usage data end before start", "GET", v+"/data-analysis?start_time=2031-01-01T00:00:00Z&end_time=2021-01-01T00:00:00Z", "", signed, 400, docAccepts),
		}},
		{"usage summary", "GET", v + "/data-analysis-summary?business_type=VIDEO_2D&unit=MIN", "", false, []call{
			mk("usage summary unit DAY", "GET", v+"/data-analysis-summary?unit=DAY", "", signed, 400, docRefuses),
		}},
		{"voice training quotas", "GET", v + "/voice-training-manage/quotas?limit=10", "", false, []call{
			mk("voice training quotas limit 0", "GET", v+"/voice-training-manage/quotas?limit=0", "", signed, 400, docRefuses),
		}},
		{"duration cfg", "GET", v + "/voice-training-manage/user/tenant-duration-cfg", "", false, nil},
	}
	var calls []call
	for i, r := range routes {
		a := signed
		if i%2 == 1 {
			a = withToken
		}
		// The failures first: the good call may change what they see.
		calls = append(calls,
			mk(r.name+" no credentials", r.method, r.path, r.body, noAuth, 401, docRefuses),
			mk(r.name+" another project", r.method, strings.Replace(r.path, projA, projB, 1), r.body, signed, 403, docAccepts),
			call{name: r.name + " internal error", server: "tenant-broken", method: r.method, target: r.path, body: r.body, auth: signed, want: 500},
			call{name: r.name + " rate limited", server: "tenant-limited", method: r.method, target: r.path, body: r.body, auth: signed, want: 429},
			call{name: r.name + " body too large", server: "tenant", method: r.method, target: r.path, body: bigBody, auth: signed, want: 413, doc: verdict(r.bigBodyRefused)},
			mk(r.name, r.method, r.path, r.body, a, 200, docAccepts),
		)
		calls = append(calls, r.good...)
	}
	return calls
}
