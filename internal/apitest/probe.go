package apitest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/sdkerr"
	metastudio "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/metastudio/v1/model"
)

// tenantSideOps calls each tenant-side operation of the pinned SDK's
// MetaStudio client once, with a small valid request.
func tenantSideOps(_ string) map[string]func(*metastudio.MetaStudioClient) error {
	day := time.Now().UTC()
	start, end := day.Add(-24*time.Hour).Format(time.RFC3339), day.Add(24*time.Hour).Format(time.RFC3339)
	voice := model.GetCollectionInfoCollectionTypeEnum().VOICE
	return map[string]func(*metastudio.MetaStudioClient) error{
		"ListTenantResources": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ListTenantResources(&model.ListTenantResourcesRequest{ResourceSource: "PURCHASED"})
			return err
		},
		"ShowTenantAssginRecord": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowTenantAssginRecord(&model.ShowTenantAssginRecordRequest{})
			return err
		},
		"CountTenantResources": func(c *metastudio.MetaStudioClient) error {
			_, err := c.CountTenantResources(&model.CountTenantResourcesRequest{})
			return err
		},
		"ShowResourceUsage": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowResourceUsage(&model.ShowResourceUsageRequest{})
			return err
		},
		"BindUserAssetResource": func(c *metastudio.MetaStudioClient) error {
			_, err := c.BindUserAssetResource(&model.BindUserAssetResourceRequest{Body: &model.BindAssetResourceReq{AssetId: ptr("probe-asset"), BusinessType: ptr("Interaction.basic.channel")}})
			return err
		},
		"CreateUserQuotas": func(c *metastudio.MetaStudioClient) error {
			_, err := c.CreateUserQuotas(&model.CreateUserQuotasRequest{Body: &model.CreateUserQuotaInfo{UserId: "probe", Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(5))}}})
			return err
		},
		"ListUserQuotas": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ListUserQuotas(&model.ListUserQuotasRequest{})
			return err
		},
		"UpdateUserQuotas": func(c *metastudio.MetaStudioClient) error {
			_, err := c.UpdateUserQuotas(&model.UpdateUserQuotasRequest{UserId: "probe", Body: &model.UpdateUserQuotaInfo{Quota: &model.UserQuotaDetail{VideoTime2dModel: ptr(int32(-1))}}})
			return err
		},
		"DeleteUserQuotas": func(c *metastudio.MetaStudioClient) error {
			_, err := c.DeleteUserQuotas(&model.DeleteUserQuotasRequest{UserId: "probe"})
			return err
		},
		"ShowTenantServiceConfigs": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowTenantServiceConfigs(&model.ShowTenantServiceConfigsRequest{})
			return err
		},
		"UpdateTenantServiceConfigs": func(c *metastudio.MetaStudioClient) error {
			_, err := c.UpdateTenantServiceConfigs(&model.UpdateTenantServiceConfigsRequest{Body: &model.UpdateTenantServiceConfigsReq{IsAiMarkOn: ptr(true)}})
			return err
		},
		"SetTenantUserConfiguration": func(c *metastudio.MetaStudioClient) error {
			_, err := c.SetTenantUserConfiguration(&model.SetTenantUserConfigurationRequest{Body: &model.SetTenantUserConfigurationReq{
				MyCollections: &[]model.CollectionInfo{{CollectionType: &voice, CollectionIds: &[]string{"probe-voice"}}}}})
			return err
		},
		"ShowTenantUserConfiguration": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowTenantUserConfiguration(&model.ShowTenantUserConfigurationRequest{})
			return err
		},
		"DeleteTenantUserConfiguration": func(c *metastudio.MetaStudioClient) error {
			_, err := c.DeleteTenantUserConfiguration(&model.DeleteTenantUserConfigurationRequest{Body: &model.DeleteTenantUserConfigurationReq{
				MyCollections: &[]model.CollectionInfo{{CollectionType: &voice, CollectionIds: &[]string{"probe-voice"}}}}})
			return err
		},
		"SetTenantNoticeConfiguration": func(c *metastudio.MetaStudioClient) error {
			_, err := c.SetTenantNoticeConfiguration(&model.SetTenantNoticeConfigurationRequest{Body: &model.SetTenantNoticeConfigurationReq{Type: "RESOURCE_EXPIRE"}})
			return err
		},
		"ShowTenantNoticeConfiguration": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowTenantNoticeConfiguration(&model.ShowTenantNoticeConfigurationRequest{Type: "RESOURCE_EXPIRE"})
			return err
		},
		"SignAgreement": func(c *metastudio.MetaStudioClient) error {
			_, err := c.SignAgreement(&model.SignAgreementRequest{})
			return err
		},
		"SignSpecialAgreement": func(c *metastudio.MetaStudioClient) error {
			_, err := c.SignSpecialAgreement(&model.SignSpecialAgreementRequest{Body: &model.SpecialAgreementSignReq{AgreementType: "AUTO_PAY", ToSign: true}})
			return err
		},
		"ShowUsageData": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowUsageData(&model.ShowUsageDataRequest{StartTime: start, EndTime: end})
			return err
		},
		"ShowSummaryUsageData": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowSummaryUsageData(&model.ShowSummaryUsageDataRequest{})
			return err
		},
		"ShowVoiceTrainingQuotas": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowVoiceTrainingQuotas(&model.ShowVoiceTrainingQuotasRequest{})
			return err
		},
		"ShowTenantDurationCfg": func(c *metastudio.MetaStudioClient) error {
			_, err := c.ShowTenantDurationCfg(&model.ShowTenantDurationCfgRequest{})
			return err
		},
		"CreateMetaStudioOrders": func(c *metastudio.MetaStudioClient) error {
			_, err := c.CreateMetaStudioOrders(&model.CreateMetaStudioOrdersRequest{Body: &model.CreateMetaStudioOrdersReq{}})
			return err
		},
	}
}

// tenantSidePath says which operations of metaStudio_meta.go are
// tenant-side: the Tenant Management family, user quotas, data analysis,
// the voice training quota and duration reads, and orders.
var tenantSidePath = regexp.MustCompile(`^/v1/\{project_id\}/(tenants/|user/quotas|data-analysis|voice-training-manage/quotas$|voice-training-manage/user/tenant-duration-cfg$|mss/public/orders$)`)

// sdkTenantSideOps reads the pinned SDK's metaStudio_meta.go and returns
// every operation whose path is tenant-side.
func sdkTenantSideOps(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/huaweicloud/huaweicloud-sdk-go-v3").Output()
	if err != nil {
		t.Fatalf("locate the SDK: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "services", "metastudio", "v1", "metaStudio_meta.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`func GenReqDefFor(\w+)\(\)[^}]*?WithPath\("([^"]+)"\)`)
	var ops []string
	for _, m := range re.FindAllStringSubmatch(string(src), -1) {
		if tenantSidePath.MatchString(m[2]) {
			ops = append(ops, m[1])
		}
	}
	slices.Sort(ops)
	return ops
}

// testProbe calls each tenant-side operation of the SDK once, with AK/SK
// and with a token, and fails on any 404: every one of them is served.
func testProbe(t *testing.T, e *env) {
	const project = "probe"
	surfaceProject(t, e, project)
	calls := tenantSideOps(project)
	// In this order: a quota is created before it is updated and deleted.
	names := []string{"ListTenantResources", "ShowTenantAssginRecord", "CountTenantResources", "ShowResourceUsage",
		"BindUserAssetResource", "CreateUserQuotas", "ListUserQuotas", "UpdateUserQuotas", "DeleteUserQuotas",
		"ShowTenantServiceConfigs", "UpdateTenantServiceConfigs", "SetTenantUserConfiguration", "ShowTenantUserConfiguration",
		"DeleteTenantUserConfiguration", "SetTenantNoticeConfiguration", "ShowTenantNoticeConfiguration", "SignAgreement",
		"SignSpecialAgreement", "ShowUsageData", "ShowSummaryUsageData", "ShowVoiceTrainingQuotas", "ShowTenantDurationCfg",
		"CreateMetaStudioOrders"}
	sorted := slices.Sorted(slices.Values(names))
	var defined []string
	for name := range calls {
		defined = append(defined, name)
	}
	slices.Sort(defined)
	if sdk := sdkTenantSideOps(t); !slices.Equal(sdk, sorted) || !slices.Equal(defined, sorted) {
		t.Fatalf("the SDK's tenant-side operations are %v;\nthe probe calls %v (defines %v)", sdk, sorted, defined)
	}
	ak, sk := e.credential(t, project)
	for _, mode := range []string{"aksk", "token"} {
		client := e.sdkToken(t, project)
		if mode == "aksk" {
			client = e.sdk(t, ak, sk, project)
		}
		t.Run(mode, func(t *testing.T) {
			for _, name := range names {
				err := calls[name](client)
				var se *sdkerr.ServiceResponseError
				switch {
				case errors.As(err, &se) && se.StatusCode == 404:
					t.Errorf("%s: 404 %s %s", name, se.ErrorCode, se.ErrorMessage)
				case errors.As(err, &se) && se.StatusCode >= 500:
					t.Errorf("%s: %d %s %s", name, se.StatusCode, se.ErrorCode, se.ErrorMessage)
				case errors.As(err, &se):
					// Answered, though the probe's request was refused.
					t.Logf("%s: %d %s %s", name, se.StatusCode, se.ErrorCode, se.ErrorMessage)
				case err != nil:
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}
