package api

import "github.com/snapexport/snapexport"

// Every cluster here is dedicated: the flex-cluster operations exist only
// to answer clients (the Atlas CLI's snapshot commands) that ask the flex
// API first and turn to the dedicated one on Atlas's
// CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API, or on CLUSTER_NOT_FOUND.

// refuseFlex answers every flex-cluster operation: the cluster of the path
// exists but is not flex, or CLUSTER_NOT_FOUND. The cluster decides before
// anything else of the path (a snapshot id) is looked at, as in Atlas's
// recorded answers.
func refuseFlex(c *call) (*response, error) {
	name, err := c.pathParameter("name", snapexport.ValidClusterName)
	if err != nil {
		return nil, err
	}
	if _, err := c.srv.Service.Cluster(c.r.Context(), c.project.ID, name); err != nil {
		return nil, err
	}
	return nil, snapexport.Errorf(snapexport.CodeNonFlexClusterInFlexAPI, "Cannot use non-flex cluster %s in the flex API.", name)
}
