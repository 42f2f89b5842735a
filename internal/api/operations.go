package api

import "github.com/snapexport/snapexport"

// operations is the API: each operation with its versions and the role
// Atlas's specification requires for it (x-rolesRequirements, August 2026;
// v1.0 roles from the v1 specification), and snapexport's own operations.
func (s *Server) operations() []operation {
	const (
		readOnly = snapexport.RoleGroupReadOnly
		manager  = snapexport.RoleGroupBackupManager
		exporter = snapexport.RoleGroupBackupExportOperator
		creator  = snapexport.RoleGroupBackupCreator
		owner    = snapexport.RoleGroupOwner
		// clusterManager creates, changes and deletes clusters (Atlas's
		// Project Cluster Manager, which Project Owner includes).
		clusterManager = snapexport.RoleGroupClusterManager
	)
	buckets := "/groups/{groupId}/backup/exportBuckets"
	bucket := buckets + "/{exportBucketId}"
	roles := "/groups/{groupId}/cloudProviderAccess"
	role := roles + "/{roleId}"
	clusters := "/groups/{groupId}/clusters"
	cluster := clusters + "/{clusterName}"
	schedule := cluster + "/backup/schedule"
	snapshots := cluster + "/backup/snapshots"
	snapshot := snapshots + "/{snapshotId}"
	sharded := snapshots + "/shardedCluster/{snapshotId}"
	exports := cluster + "/backup/exports"
	flexCluster := "/groups/{groupId}/flexClusters/{name}"
	rs, sh := replicaSetSnapshots, shardedSnapshots
	ops := []operation{
		{id: "listGroupBackupExportBuckets", method: "GET", path: buckets, v2: []version{v20230101Buckets, v20240530}, v1: true, role: readOnly, limit: cloudBackups, handle: listBuckets},
		{id: "createGroupBackupExportBucket", method: "POST", path: buckets, v2: []version{v20230101Buckets, v20240530}, v1: true, role: manager, limit: cloudBackups, handle: createBucket},
		{id: "getGroupBackupExportBucket", method: "GET", path: bucket, v2: []version{v20230101Buckets, v20240530}, v1: true, role: readOnly, limit: cloudBackups, handle: getBucket},
		{id: "updateGroupBackupExportBucket", method: "PATCH", path: bucket, v2: []version{v20240530}, role: manager, limit: cloudBackups, handle: updateBucket},
		{id: "deleteGroupBackupExportBucket", method: "DELETE", path: bucket, v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: deleteBucket},

		{id: "listGroupCloudProviderAccess", method: "GET", path: roles, v2: []version{v20230101}, v1: true, role: readOnly, v1Role: owner, limit: cloudProviderAccess, handle: listRoles},
		{id: "createGroupCloudProviderAccess", method: "POST", path: roles, v2: []version{v20230101}, v1: true, role: owner, limit: cloudProviderAccess, handle: createRole},
		{id: "getGroupCloudProviderAccess", method: "GET", path: role, v2: []version{v20230101}, v1: true, role: readOnly, v1Role: owner, limit: cloudProviderAccess, handle: getRole},
		{id: "authorizeGroupCloudProviderAccessRole", method: "PATCH", path: role, v2: []version{v20230101}, v1: true, role: owner, limit: cloudProviderAccess, handle: authorizeRole},
		{id: "deauthorizeGroupCloudProviderAccessRole", method: "DELETE", path: roles + "/{cloudProvider}/{roleId}", v2: []version{v20230101}, v1: true, role: owner, limit: cloudProviderAccess, handle: deauthorizeRole},

		{id: "listGroupClusters", method: "GET", path: clusters, v2: []version{v20230101Clusters, v20230201, v20240805}, role: readOnly, limit: clustersSet, handle: listClusters},
		{id: "getGroupCluster", method: "GET", path: cluster, v2: []version{v20230101Clusters, v20230201, v20240805}, role: readOnly, limit: clustersSet, handle: getCluster},
		{id: "createGroupCluster", method: "POST", path: clusters, v2: []version{v20230101Clusters, v20230201, v20240805, v20241023}, role: clusterManager, limit: clustersSet, handle: createCluster},
		{id: "updateGroupCluster", method: "PATCH", path: cluster, v2: []version{v20230101Clusters, v20230201, v20240805, v20241023}, role: clusterManager, limit: clustersSet, handle: updateCluster},
		{id: "deleteGroupCluster", method: "DELETE", path: cluster, v2: []version{v20230101Clusters, v20230201Deletion}, role: clusterManager, limit: clustersSet, handle: deleteCluster},
		{id: "getGroupClusterStatus", method: "GET", path: cluster + "/status", v2: []version{v20230101}, role: readOnly, limit: clustersSet, handle: getClusterStatus},
		{id: "getGroupClusterBackupSchedule", method: "GET", path: schedule, v2: []version{v20230101Schedule, v20240805}, role: readOnly, limit: cloudBackups, handle: getSchedule},
		{id: "updateGroupClusterBackupSchedule", method: "PATCH", path: schedule, v2: []version{v20230101Schedule, v20240805}, role: manager, limit: cloudBackups, handle: updateSchedule},
		{id: "deleteGroupClusterBackupSchedule", method: "DELETE", path: schedule, v2: []version{v20230101Schedule, v20240805}, role: manager, limit: cloudBackups, handle: deleteSchedule},

		// An on-demand snapshot copies the cluster's data as loaded (PUT
		// …/data). The ServeMux prefers the literal shardedClusters
		// segment to the {snapshotId} wildcard.
		{id: "takeGroupClusterBackupSnapshots", method: "POST", path: snapshots, v2: []version{v20230101}, v1: true, role: creator, limit: cloudBackups, handle: rs.take},
		{id: "listGroupClusterBackupSnapshots", method: "GET", path: snapshots, v2: []version{v20230101}, v1: true, role: readOnly, limit: cloudBackups, handle: rs.list},
		{id: "getGroupClusterBackupSnapshot", method: "GET", path: snapshot, v2: []version{v20230101}, v1: true, role: readOnly, limit: cloudBackups, handle: rs.get},
		{id: "updateGroupClusterBackupSnapshot", method: "PATCH", path: snapshot, v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: rs.update},
		{id: "deleteGroupClusterBackupSnapshot", method: "DELETE", path: snapshot, v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: rs.delete},
		{id: "listGroupClusterBackupSnapshotShardedClusters", method: "GET", path: snapshots + "/shardedClusters", v2: []version{v20230101}, v1: true, role: readOnly, limit: cloudBackups, handle: sh.list},
		{id: "getGroupClusterBackupSnapshotShardedCluster", method: "GET", path: sharded, v2: []version{v20230101}, v1: true, role: readOnly, limit: cloudBackups, handle: sh.get},
		{id: "deleteGroupClusterBackupSnapshotShardedCluster", method: "DELETE", path: sharded, v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: sh.delete},

		// Creating an export needs the Export Operator in v2 but the Backup
		// Manager in v1.0, who alone may read jobs back in either.
		{id: "listGroupClusterBackupExports", method: "GET", path: exports, v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: listExportJobs},
		{id: "createGroupClusterBackupExport", method: "POST", path: exports, v2: []version{v20230101}, v1: true, role: exporter, v1Role: manager, limit: cloudBackups, handle: createExportJob},
		{id: "getGroupClusterBackupExport", method: "GET", path: exports + "/{exportId}", v2: []version{v20230101}, v1: true, role: manager, limit: cloudBackups, handle: getExportJob},

		// No flex cluster exists here: these answer that the cluster is not
		// one, or does not exist. Reading the flex cluster counts against
		// the Clusters limit, like reading a cluster; the flex snapshot
		// operations against the Cloud Backups limit, as Atlas's recorded
		// answers show.
		{id: "getGroupFlexCluster", method: "GET", path: flexCluster, v2: []version{v20241113}, role: readOnly, limit: clustersSet, handle: refuseFlex},
		{id: "listGroupFlexBackupSnapshots", method: "GET", path: flexCluster + "/backup/snapshots", v2: []version{v20241113}, role: readOnly, limit: cloudBackups, handle: refuseFlex},
		{id: "getGroupFlexBackupSnapshot", method: "GET", path: flexCluster + "/backup/snapshots/{snapshotId}", v2: []version{v20241113}, role: readOnly, limit: cloudBackups, handle: refuseFlex},

		// The Projects limit is kept per organization: the caller's.
		{id: "listProjects", method: "GET", path: "/groups", v2: []version{v20230101}, limit: projectsSet, handle: listProjects},
		{id: "createProject", method: "POST", path: "/groups", v2: []version{v20230101}, limit: projectsSet, handle: createProject},
		{id: "getProject", method: "GET", path: "/groups/{groupId}", v2: []version{v20230101}, role: readOnly, limit: projectsSet, handle: getProject},

		// snapexport's own operations. Uploading a snapshot, or a cluster's
		// data, needs the role Atlas asks for taking one; cancelling an
		// export the role that creates exports. All count against the Cloud
		// Backups limit, like Atlas's snapshot and export operations.
		{id: "uploadSnapshot", method: "POST", path: cluster + "/snapshots", own: true, role: creator, limit: cloudBackups, handle: uploadSnapshot},
		{id: "loadClusterData", method: "PUT", path: cluster + "/data", own: true, role: creator, limit: cloudBackups, handle: loadClusterData},
		{id: "cancelExportJob", method: "POST", path: exports + "/{exportId}/cancel", own: true, role: exporter, limit: cloudBackups, handle: cancelExportJob},
		// An export's progress and objects need the role that reads
		// export jobs.
		{id: "getExportJobProgress", method: "GET", path: exports + "/{exportId}/progress", own: true, role: manager, limit: cloudBackups, handle: getExportJobProgress},
		{id: "listExportJobObjects", method: "GET", path: exports + "/{exportId}/objects", own: true, role: manager, limit: cloudBackups, handle: listExportJobObjects},
	}
	// The provider is spelled out in each path: a {cloudProvider} wildcard
	// there would overlap /backup/exportBuckets/{exportBucketId}.
	for _, p := range snapexport.CloudProviders {
		h := privateEndpointHandlers{provider: p}
		endpoints := "/groups/{groupId}/backup/" + string(p) + "/privateEndpoints"
		ops = append(ops,
			operation{id: "listGroupBackupPrivateEndpoints", method: "GET", path: endpoints, v2: []version{v20241113}, role: owner, limit: cloudBackups, handle: h.list},
			operation{id: "createGroupBackupPrivateEndpoint", method: "POST", path: endpoints, v2: []version{v20241113}, role: owner, limit: cloudBackups, handle: h.create},
			operation{id: "getGroupBackupPrivateEndpoint", method: "GET", path: endpoints + "/{endpointId}", v2: []version{v20241113}, role: owner, limit: cloudBackups, handle: h.get},
			operation{id: "deleteGroupBackupPrivateEndpoint", method: "DELETE", path: endpoints + "/{endpointId}", v2: []version{v20241113}, role: owner, limit: cloudBackups, handle: h.delete},
		)
	}
	return ops
}
