package schemas

// The object-type catalogue, transcribed from format.md §3 (the Developer
// Guide's Pipeline Object Reference). Where the published AWS samples use a
// field the guide does not list, the samples win: the field is accepted and
// marked Undocumented.

// Common schema files that hold shared field definitions.
const (
	defB      = "block-b" // base fields of every type
	defR      = "block-r" // schedulable runnables (activities, data nodes, resources)
	defP      = "block-p" // precondition common fields
	defShared = "fields"  // fields shared by several types outside the blocks
	defRT     = "runtime" // bare-named runtime fields
)

func fld(name string, kind Kind, desc string) *FieldInfo {
	return &FieldInfo{Name: name, Kind: kind, Description: desc, Evaluated: kind != KindRef}
}

func str(name, desc string) *FieldInfo  { return fld(name, KindString, desc) }
func strs(name, desc string) *FieldInfo { return fld(name, KindString, desc).multi() }
func integer(name, desc string) *FieldInfo {
	return fld(name, KindInteger, desc)
}
func double(name, desc string) *FieldInfo  { return fld(name, KindDouble, desc) }
func boolean(name, desc string) *FieldInfo { return fld(name, KindBoolean, desc) }
func periodF(name, desc string) *FieldInfo { return fld(name, KindPeriod, desc) }
func enum(name, desc string, values ...string) *FieldInfo {
	f := fld(name, KindEnum, desc)
	f.Enum = values
	return f
}
func ref(name, desc string, types ...string) *FieldInfo {
	f := fld(name, KindRef, desc)
	f.RefTypes = types
	return f
}

func (f *FieldInfo) multi() *FieldInfo                { f.Multi = true; return f }
func (f *FieldInfo) deprecated(why string) *FieldInfo { f.Deprecated = why; return f }
func (f *FieldInfo) undocumented() *FieldInfo         { f.Undocumented = true; return f }
func (f *FieldInfo) secret() *FieldInfo               { f.Secret = true; return f }
func (f *FieldInfo) in(def string) *FieldInfo         { f.def = def; return f }
func (f *FieldInfo) as(key string) *FieldInfo         { f.defKey = key; return f }
func (f *FieldInfo) bounds(min, max float64, exclusive bool) *FieldInfo {
	f.Min, f.Max, f.Exclusive = &min, &max, exclusive
	return f
}

func inAll(def string, fs ...*FieldInfo) []*FieldInfo {
	for _, f := range fs {
		f.def = def
	}
	return fs
}

func cat(lists ...[]*FieldInfo) []*FieldInfo {
	var out []*FieldInfo
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Type name lists used as ref targets.
var (
	activityTypes = []string{"CopyActivity", "ShellCommandActivity", "SqlActivity", "EmrActivity", "HadoopActivity",
		"HiveActivity", "HiveCopyActivity", "PigActivity", "RedshiftCopyActivity"}
	dataNodeTypes     = []string{"S3DataNode", "SqlDataNode", "MySqlDataNode", "DynamoDBDataNode", "RedshiftDataNode"}
	resourceTypes     = []string{"Ec2Resource", "EmrCluster"}
	preconditionTypes = []string{"DynamoDBDataExists", "DynamoDBTableExists", "S3KeyExists", "S3PrefixNotEmpty",
		"ShellCommandPrecondition", "Exists"}
	databaseTypes   = []string{"JdbcDatabase", "RdsDatabase", "RedshiftDatabase"}
	dataFormatTypes = []string{"CSV", "TSV", "Custom", "RegEx", "DynamoDBDataFormat", "DynamoDBExportDataFormat"}
	actionTypes     = []string{"SnsAlarm", "Terminate"}
	runnableTypes   = cat2(activityTypes, dataNodeTypes, resourceTypes)
)

func cat2(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// @-prefixed runtime fields per family (format.md §3.0 and §5).
var (
	rtRunnable = []string{"@activeInstances", "@actualEndTime", "@actualStartTime", "cancellationReason",
		"@cascadeFailedOn", "emrStepLog", "errorId", "errorMessage", "errorStackTrace", "@finishedTime",
		"hadoopJobLog", "@healthStatus", "@healthStatusFromInstanceId", "@healthStatusUpdatedTime", "hostname",
		"@lastDeactivatedTime", "@latestCompletedRunTime", "@latestRunTime", "@nextRunTime", "reportProgressTime",
		"@scheduledEndTime", "@scheduledStartTime", "@status", "@version", "@waitingOn"}
	rtResource     = append(append([]string(nil), rtRunnable...), "@failureReason")
	rtPrecondition = []string{"@activeInstances", "@actualEndTime", "@actualStartTime", "cancellationReason",
		"@cascadeFailedOn", "currentRetryCount", "emrStepLog", "errorId", "errorMessage", "errorStackTrace",
		"hadoopJobLog", "hostname", "lastRetryTime", "node", "reportProgressTime", "@scheduledEndTime",
		"@scheduledStartTime", "@status", "@version", "@waitingOn"}
	rtAction   = []string{"node", "@version"}
	rtVersion  = []string{"@version"}
	rtSchedule = []string{"@version", "@firstActivationTime"}
)

func without(list []string, drop ...string) []string {
	var out []string
next:
	for _, s := range list {
		for _, d := range drop {
			if s == d {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

// Bare-named runtime fields, defined once (filled by buildSpec; package
// init order would otherwise depend on file names).
var runtimeFields = map[string]*FieldInfo{}

func defineRuntimeFields() {
	for _, f := range []*FieldInfo{
		str("cancellationReason", "Set by the service: why the object was cancelled."),
		str("emrStepLog", "Set by the service: EMR step logs (EMR activities only)."),
		str("errorId", "Set by the service: the error id when the object failed."),
		str("errorMessage", "Set by the service: the error message when the object failed."),
		str("errorStackTrace", "Set by the service: the error stack trace when the object failed."),
		str("hadoopJobLog", "Set by the service: Hadoop job logs (EMR-based activities)."),
		str("hostname", "Set by the service: host name of the client that picked up the task."),
		str("reportProgressTime", "Set by the service: the last time the remote activity reported progress."),
		integer("currentRetryCount", "Set by the service: how many times the precondition was tried in this attempt."),
		str("lastRetryTime", "Set by the service: the last time the precondition was tried in this attempt."),
		ref("node", "Set by the service: the object this precondition or action runs for."),
	} {
		f.def = defRT
		f.Runtime = true
		runtimeFields[f.Name] = f
	}
}

// runtimeOf returns the bare-named runtime FieldInfos among names.
func runtimeOf(names []string) []*FieldInfo {
	var out []*FieldInfo
	for _, n := range names {
		if f, ok := runtimeFields[n]; ok {
			out = append(out, f)
		}
	}
	return out
}

func buildSpec() []*Type {
	defineRuntimeFields()
	// Block B (every type).
	fID := str("id", "Unique identifier of the object within the definition.")
	fID.Evaluated = false
	fName := str("name", "Display name of the object; defaults to id.")
	fName.Evaluated = false
	fType := str("type", "Object type.")
	fType.Evaluated = false
	fParent := ref("parent", "Object to inherit fields from (instead of Default).")
	blockB := inAll(defB, fID, fName, fType, fParent)

	// Block R (schedulable runnables).
	actions := actionTypes
	blockR := inAll(defR,
		ref("schedule", "Schedule of the object; usually inherited from Default. Not used in on-demand pipelines.", "Schedule"),
		enum("scheduleType", "When in the interval an instance runs: cron (start), timeseries (end) or ondemand (set on Default only).",
			"cron", "ondemand", "timeseries"),
		integer("maxActiveInstances", "Maximum concurrent active instances (on-demand pipelines: default 1, max 5)."),
		integer("maximumRetries", "Maximum retry attempts on failure (the service limit is 5)."),
		periodF("retryDelay", "Delay between retry attempts, e.g. \"10 minutes\" (minimum 2 minutes)."),
		periodF("attemptTimeout", "Timeout for remote work completion; the attempt may be retried after it."),
		periodF("reportProgressTimeout", "Timeout between progress reports before the attempt is considered stalled."),
		periodF("lateAfterTimeout", "Time after the scheduled start by which the object must start; needed by onLateAction."),
		// The guide shows single refs for onFail/onSuccess, but real
		// pipelines (arthur-redshift-etl) list several and the API repeats
		// keys freely, so lists are accepted.
		ref("onFail", "Actions to run when the object fails.", actions...).multi(),
		ref("onSuccess", "Actions to run when the object succeeds.", actions...).multi(),
		ref("onLateAction", "Actions to run when the object has not started by lateAfterTimeout.", actions...).multi(),
		enum("failureAndRerunMode", "How failures cascade to dependent objects: cascade or none (default).", "cascade", "none"),
		str("pipelineLogUri", "S3 URI (s3://bucket/prefix) where the pipeline's logs are uploaded."),
		str("attemptStatus", "Most recently reported status from the remote activity."),
	)
	rField := func(name string) *FieldInfo {
		for _, f := range blockR {
			if f.Name == name {
				return f
			}
		}
		panic("schemas: no block R field " + name)
	}
	blockDeps := inAll(defR,
		ref("dependsOn", "Objects that must finish before this one runs.", runnableTypes...).multi(),
		ref("precondition", "Preconditions that must all be satisfied before this object runs.", preconditionTypes...).multi(),
	)
	// Block P (preconditions): shares most definitions with block R.
	blockP := []*FieldInfo{rField("attemptStatus"), rField("attemptTimeout"), rField("failureAndRerunMode"),
		rField("lateAfterTimeout"), rField("maximumRetries"), rField("onFail"), rField("onLateAction"),
		rField("onSuccess"), periodF("preconditionTimeout", "How long after start an unsatisfied precondition is marked failed.").in(defP),
		rField("reportProgressTimeout"), rField("retryDelay")}

	// Shared fields outside the blocks.
	runsOn := ref("runsOn", "Resource (Ec2Resource or EmrCluster) the work runs on. Give runsOn or workerGroup.", resourceTypes...).in(defShared)
	runsOnEMR := ref("runsOn", "EmrCluster the work runs on. Give runsOn or workerGroup.", "EmrCluster").in(defShared).as("runsOnEmrCluster")
	workerGroup := str("workerGroup", "Worker group of a self-managed Task Runner that picks up the work. Ignored when runsOn is set.").in(defShared)
	input := ref("input", "Input data nodes (staged as ${INPUT1_STAGING_DIR}, ${INPUT2_STAGING_DIR}, ...).", dataNodeTypes...).multi().in(defShared)
	output := ref("output", "Output data nodes (staged as ${OUTPUT1_STAGING_DIR}, ...).", dataNodeTypes...).multi().in(defShared)
	scriptURI := str("scriptUri", "S3 URI of the script to run.").in(defShared)
	scriptArgument := strs("scriptArgument", "Arguments passed to the command or script, in order.").in(defShared)
	stage := boolean("stage", "Stage input/output data and enable the ${INPUTn_STAGING_DIR}/${OUTPUTn_STAGING_DIR} variables.").in(defShared)
	stdout := str("stdout", "Where standard output goes (an S3 path with runsOn; a local path is allowed with workerGroup).").in(defShared)
	stderr := str("stderr", "Where standard error goes (an S3 path with runsOn; a local path is allowed with workerGroup).").in(defShared)
	command := str("command", "Shell command to run.").in(defShared)
	role := str("role", "IAM role the service uses (to launch resources or to evaluate preconditions).").in(defShared)
	resourceRole := str("resourceRole", "IAM instance-profile role of the EC2 instances.").in(defShared)
	tableName := str("tableName", "Table name.").in(defShared)
	region := fld("region", KindRegion, "AWS region code, e.g. us-east-1.").in(defShared)
	regionStr := str("region", "AWS region code of the database.")
	dataFormat := ref("dataFormat", "Data format of the node's contents.", dataFormatTypes...).in(defShared)
	database := ref("database", "Database holding the table.", databaseTypes...).in(defShared)
	createTableSQL := str("createTableSql", "SQL CREATE TABLE statement for the table.").in(defShared)
	schemaName := str("schemaName", "Schema holding the table.").in(defShared)
	column := strs("column", "Column definitions (\"name TYPE\"), in order.").in(defShared)
	escapeChar := str("escapeChar", "Character that tells the parser to ignore the next character.").in(defShared)
	columnSeparator := str("columnSeparator", "Character that ends a column.").in(defShared)
	recordSeparator := str("recordSeparator", "Character that ends a record.").in(defShared)
	hadoopQueue := str("hadoopQueue", "Hadoop scheduler queue the job is submitted to.").in(defShared)
	preTask := ref("preActivityTaskConfig", "Shell script run before the activity.", "ShellScriptConfig").in(defShared)
	postTask := ref("postActivityTaskConfig", "Shell script run after the activity.", "ShellScriptConfig").in(defShared)
	resizeBefore := boolean("resizeClusterBeforeRunning", "Resize the cluster before running this activity (to suit DynamoDB nodes).").in(defShared)
	resizeMax := integer("resizeClusterMaxInstances", "Upper limit on the instances the resize may request.").in(defShared)
	scriptVariable := strs("scriptVariable", "Script variables (NAME=value) passed to the script.").in(defShared)
	script := str("script", "SQL or Pig script to run, inline.").in(defShared)
	queue := str("queue", "Redshift query_group setting for the activity.").in(defShared)
	username := str("username", "User name for the connection.").in(defShared)
	password := str("*password", "Password for the connection (encrypted at rest).").secret().in(defShared)
	plainPassword := str("password", "Unencrypted password, as written by some AWS samples.").
		deprecated("use \"*password\" so the value is encrypted").undocumented().in(defShared)
	databaseName := str("databaseName", "Logical database name.").in(defShared)
	jdbcDriverJarURI := str("jdbcDriverJarUri", "S3 location of the JDBC driver jar.").in(defShared)
	jdbcProperties := strs("jdbcProperties", "JDBC connection properties (A=B).").in(defShared)
	actionOnResourceFailure := enum("actionOnResourceFailure", "What to do when the resource fails: retryall or retrynone.", "retryall", "retrynone").in(defShared)
	actionOnTaskFailure := enum("actionOnTaskFailure", "What to do with the resource when a task fails: continue or terminate.", "continue", "terminate").in(defShared)
	availabilityZone := str("availabilityZone", "Availability zone to launch in.").in(defShared)
	httpProxy := ref("httpProxy", "Proxy the resource's clients use.", "HttpProxy").in(defShared)
	initTimeout := periodF("initTimeout", "How long to wait for the resource to start.").in(defShared)
	keyPair := str("keyPair", "EC2 key pair name for SSH access.").in(defShared)
	subnetID := str("subnetId", "VPC subnet to launch in.").in(defShared)
	useOnDemand := boolean("useOnDemandOnLastAttempt", "Use on-demand instead of spot instances on the last attempt.").in(defShared)

	dataNodeCommon := func(own ...*FieldInfo) []*FieldInfo {
		return cat(blockB, blockR, blockDeps, []*FieldInfo{runsOn, workerGroup}, own)
	}
	activity := func(run *FieldInfo, own ...*FieldInfo) []*FieldInfo {
		return cat(blockB, blockR, blockDeps, []*FieldInfo{run, workerGroup}, own)
	}
	runGroup := Group{Fields: []string{"runsOn", "workerGroup"}}
	one := func(a, b string) Group { return Group{Fields: []string{a, b}, Exclusive: true} }
	withRT := func(fs []*FieldInfo, rt []string) []*FieldInfo { return cat(fs, runtimeOf(rt)) }

	sqlNodeOwn := func() []*FieldInfo {
		return []*FieldInfo{
			str("table", "Table name."), createTableSQL,
			str("insertQuery", "SQL statement that inserts data into the table."),
			str("selectQuery", "SQL statement that reads data from the table."),
			schemaName, database,
		}
	}
	mySQLOwn := append(sqlNodeOwn(),
		str("connectionString", "JDBC connection string (older inline form of the database).").undocumented(),
		username, password)

	types := []*Type{
		// Data nodes.
		{Name: "S3DataNode", Family: FamilyDataNode, Description: "Data stored in Amazon S3 (a file or a directory).",
			Fields: withRT(dataNodeCommon(
				enum("compression", "Compression of the data: none or gzip (Redshift and CopyActivity only).", "none", "gzip"),
				dataFormat,
				str("directoryPath", "S3 directory, e.g. s3://bucket/prefix/."),
				str("filePath", "S3 object, e.g. s3://bucket/key."),
				str("manifestFilePath", "S3 path of a manifest file (RedshiftCopyActivity only)."),
				enum("s3EncryptionType", "Server-side encryption: SERVER_SIDE_ENCRYPTION (default) or NONE.", "SERVER_SIDE_ENCRYPTION", "NONE"),
			), rtRunnable),
			OneOf: []Group{one("filePath", "directoryPath")}},
		{Name: "SqlDataNode", Family: FamilyDataNode, Description: "A table in a SQL database.",
			Fields: withRT(dataNodeCommon(sqlNodeOwn()...), rtRunnable), Required: []string{"table"}},
		{Name: "MySqlDataNode", Family: FamilyDataNode, Description: "A MySQL table.",
			Deprecated: "use SqlDataNode",
			Fields:     withRT(dataNodeCommon(mySQLOwn...), rtRunnable), Required: []string{"table"}},
		{Name: "DynamoDBDataNode", Family: FamilyDataNode, Description: "A DynamoDB table.",
			Fields: withRT(dataNodeCommon(
				tableName,
				ref("dataFormat", "DynamoDB data format (Hive activities only).", "DynamoDBDataFormat", "DynamoDBExportDataFormat"),
				double("readThroughputPercent", "Share of the provisioned read throughput to use, 0.1 to 1.0.").bounds(0.1, 1.0, false),
				double("writeThroughputPercent", "Share of the provisioned write throughput to use, 0.1 to 1.0.").bounds(0.1, 1.0, false),
				region,
			), rtRunnable), Required: []string{"tableName"}},
		{Name: "RedshiftDataNode", Family: FamilyDataNode, Description: "A table in Amazon Redshift.",
			Fields: withRT(dataNodeCommon(
				ref("database", "Redshift database holding the table.", "RedshiftDatabase"),
				tableName, createTableSQL,
				// A list in the AWS billing sample.
				strs("primaryKeys", "Primary key columns; the merge key for RedshiftCopyActivity."),
				str("schemaName", "Schema holding the table (default PUBLIC)."),
			), rtRunnable), Required: []string{"database", "tableName"}},

		// Activities.
		{Name: "CopyActivity", Family: FamilyActivity, Description: "Copies data between S3 and SQL data nodes.",
			Fields: withRT(activity(runsOn, input, output), rtRunnable), OneOf: []Group{runGroup}},
		{Name: "ShellCommandActivity", Family: FamilyActivity, Description: "Runs a shell command or script.",
			Fields: withRT(activity(runsOn, input, output, command, scriptURI, scriptArgument, stage, stdout, stderr), rtRunnable),
			// The field table says scriptArgument with scriptUri "causes an
			// error", but AWS's own samples (python-template, kinesis-to-s3,
			// HadoopTerasort) and many real pipelines combine them, and the
			// service runs them with the arguments as $1...$n: accepted.
			OneOf: []Group{one("command", "scriptUri"), runGroup}},
		{Name: "SqlActivity", Family: FamilyActivity, Description: "Runs a SQL script against a database.",
			Fields:   withRT(activity(runsOn, input, output, database, script, scriptURI, scriptArgument, queue), rtRunnable),
			Required: []string{"database"}, OneOf: []Group{one("script", "scriptUri"), runGroup}},
		{Name: "EmrActivity", Family: FamilyActivity, Description: "Runs EMR steps on an EmrCluster.",
			Fields: withRT(activity(runsOnEMR, input, output,
				strs("step", "EMR step: jar,arg1,arg2,... (up to 255 step values per activity)."),
				strs("preStepCommand", "Shell command run before the steps (up to 255 values)."),
				strs("postStepCommand", "Shell command run after the steps (up to 255 values)."),
				resizeBefore, resizeMax), rtRunnable),
			OneOf: []Group{runGroup}},
		{Name: "HadoopActivity", Family: FamilyActivity, Description: "Runs a MapReduce job on an EmrCluster.",
			Fields: withRT(activity(runsOnEMR, input, output,
				str("jarUri", "S3 location of the job jar."),
				strs("argument", "Arguments passed to the jar."),
				str("mainClass", "Main class of the jar."),
				hadoopQueue, preTask, postTask), rtRunnable),
			Required: []string{"jarUri"}, OneOf: []Group{runGroup}},
		{Name: "HiveActivity", Family: FamilyActivity, Description: "Runs a Hive query on an EmrCluster.",
			Fields: withRT(activity(runsOnEMR, input, output,
				str("hiveScript", "Hive script to run, inline."), scriptURI,
				hadoopQueue, preTask, postTask, resizeBefore, resizeMax, scriptVariable, stage), rtRunnable),
			// The guide's table puts input and output in a "Required Group",
			// but the AWS DynamoDB import samples run Hive without them
			// (the script names its tables): samples win.
			OneOf: []Group{one("hiveScript", "scriptUri"), runGroup}},
		{Name: "HiveCopyActivity", Family: FamilyActivity, Description: "Copies data between DynamoDB and S3 with Hive, optionally filtered.",
			Fields: withRT(activity(runsOnEMR, input, output,
				str("filterSql", "Hive SQL predicate (without WHERE) that filters the rows copied."),
				preTask, postTask, resizeBefore, resizeMax), rtRunnable),
			OneOf: []Group{runGroup}},
		{Name: "PigActivity", Family: FamilyActivity, Description: "Runs a Pig script on an EmrCluster.",
			Fields: withRT(activity(runsOnEMR, input, output, script, scriptURI, preTask, postTask, resizeBefore, resizeMax,
				scriptVariable, stage,
				str("generatedScriptsPath", "S3 path where the generated Pig scripts are written.").undocumented()), rtRunnable),
			OneOf: []Group{one("script", "scriptUri"), runGroup}},
		{Name: "RedshiftCopyActivity", Family: FamilyActivity, Description: "Copies data into (or out of) Amazon Redshift.",
			Fields: withRT(activity(runsOn, input, output,
				enum("insertMode", "How existing rows are handled: KEEP_EXISTING, OVERWRITE_EXISTING, TRUNCATE or APPEND.",
					"KEEP_EXISTING", "OVERWRITE_EXISTING", "TRUNCATE", "APPEND"),
				strs("commandOptions", "Redshift COPY options, in order."),
				queue,
				str("transformSql", "SELECT run over the staging table before loading."),
			), rtRunnable),
			Required: []string{"insertMode"}, OneOf: []Group{runGroup}},

		// Resources.
		{Name: "Ec2Resource", Family: FamilyResource, Description: "An EC2 instance that runs activities.",
			Fields: withRT(cat(blockB, blockR, []*FieldInfo{
				role, resourceRole, actionOnResourceFailure, actionOnTaskFailure,
				boolean("associatePublicIpAddress", "Give the instance a public IP address (default true)."),
				availabilityZone, httpProxy,
				str("imageId", "AMI id (default: a region-specific HVM AMI)."),
				initTimeout,
				str("instanceType", "EC2 instance type, e.g. m5.large."),
				keyPair, region,
				str("runAsUser", "User that runs the Task Runner."),
				strs("securityGroupIds", "VPC security group ids."),
				strs("securityGroups", "EC2-Classic security group names."),
				double("spotBidPrice", "Spot bid price in dollars, between 0 and 20.00.").bounds(0, 20, true),
				subnetID,
				periodF("terminateAfter", "Terminate the instance after this time, e.g. \"2 hours\"."),
				useOnDemand,
				integer("instanceCount", "Number of instances.").deprecated("an Ec2Resource always has one instance"),
				integer("minInstanceCount", "Minimum number of instances.").deprecated("an Ec2Resource always has one instance"),
				str("logUri", "S3 location for the Task Runner logs.").undocumented(),
			}), rtResource),
			Required: []string{"role", "resourceRole"}},
		{Name: "EmrCluster", Family: FamilyResource, Description: "An Amazon EMR cluster that runs EMR-based activities.",
			Fields: withRT(cat(blockB, blockR, []*FieldInfo{
				role, resourceRole, actionOnResourceFailure, actionOnTaskFailure,
				strs("additionalMasterSecurityGroupIds", "Extra security groups for the master node."),
				strs("additionalSlaveSecurityGroupIds", "Extra security groups for the core and task nodes."),
				str("amiVersion", "EMR AMI version (before emr-4.0.0; use releaseLabel after)."),
				str("releaseLabel", "EMR release label, e.g. emr-5.36.0."),
				strs("applications", "Applications to install (EMR 4+), e.g. spark, hive."),
				availabilityZone,
				strs("bootstrapAction", "Bootstrap actions: script,arg1,arg2 (up to 255 values)."),
				ref("configuration", "EMR configurations (EMR 4+).", "EmrConfiguration").multi(),
				str("coreInstanceType", "Instance type of the core nodes."),
				str("masterInstanceType", "Instance type of the master node."),
				str("taskInstanceType", "Instance type of the task nodes."),
				integer("coreInstanceCount", "Number of core nodes."),
				integer("taskInstanceCount", "Number of task nodes."),
				fld("coreInstanceBidPrice", KindBidPrice, "Spot bid price of core nodes (0 to 20.00, or OnDemandPrice); needs coreInstanceCount.").bounds(0, 20, true),
				fld("masterInstanceBidPrice", KindBidPrice, "Spot bid price of the master node (0 to 20.00, or OnDemandPrice).").bounds(0, 20, true),
				fld("taskInstanceBidPrice", KindBidPrice, "Spot bid price of task nodes (0 to 20.00, or OnDemandPrice).").bounds(0, 20, true),
				ref("coreGroupConfiguration", "Configuration of the core instance group (EMR 4+)."),
				ref("masterGroupConfiguration", "Configuration of the master instance group (EMR 4+)."),
				ref("taskGroupConfiguration", "Configuration of the task instance group (EMR 4+)."),
				ref("coreEbsConfiguration", "EBS volumes of the core nodes.", "EbsConfiguration"),
				ref("masterEbsConfiguration", "EBS volumes of the master node.", "EbsConfiguration"),
				ref("taskEbsConfiguration", "EBS volumes of the task nodes.", "EbsConfiguration"),
				str("emrManagedMasterSecurityGroupId", "EMR-managed security group of the master node (sg-...)."),
				str("emrManagedSlaveSecurityGroupId", "EMR-managed security group of the core and task nodes (sg-...)."),
				str("serviceAccessSecurityGroupId", "Security group for EMR service access (sg-...)."),
				boolean("enableDebugging", "Enable EMR debugging."),
				enum("hadoopSchedulerType", "Hadoop scheduler: PARALLEL_FAIR_SCHEDULING, PARALLEL_CAPACITY_SCHEDULING or DEFAULT_SCHEDULER.",
					"PARALLEL_FAIR_SCHEDULING", "PARALLEL_CAPACITY_SCHEDULING", "DEFAULT_SCHEDULER"),
				httpProxy, initTimeout, keyPair, region, subnetID,
				str("supportedProducts", "Third-party products to install (AMI-based releases)."),
				fld("terminateAfter", KindPeriodOrInteger, "Terminate the cluster after this time: a period such as \"2 hours\" (or a number of hours)."),
				useOnDemand,
				str("emrLogUri", "S3 location for the EMR logs.").undocumented(),
				str("installHive", "Hive version to install on the cluster, e.g. latest (AMI-based releases).").undocumented(),
			}), rtResource),
			Exclusive: []Pair{{A: "amiVersion", B: "releaseLabel", Note: "amiVersion is for releases before emr-4.0.0, releaseLabel after"}}},
		{Name: "HttpProxy", Family: FamilyUtility, Description: "An HTTP proxy used by Ec2Resource and EmrCluster clients.",
			Fields: cat(blockB, []*FieldInfo{
				str("hostname", "Host name (or IP address) of the proxy."),
				str("port", "Port of the proxy."),
				str("*password", "Proxy password (encrypted at rest).").secret(),
				str("username", "Proxy user name."),
				str("windowsDomain", "Windows domain name for an NTLM proxy."),
				str("windowsWorkgroup", "Windows workgroup name for an NTLM proxy."),
				boolean("s3NoProxy", "Bypass the proxy for S3 endpoints."),
			}),
			Required: []string{"hostname", "port"}},

		// Preconditions.
		{Name: "DynamoDBDataExists", Family: FamilyPrecondition, Description: "Checks that a DynamoDB table holds data.",
			Fields: withRT(cat(blockB, blockP, []*FieldInfo{role, tableName}), rtPrecondition), Required: []string{"role", "tableName"}},
		{Name: "DynamoDBTableExists", Family: FamilyPrecondition, Description: "Checks that a DynamoDB table exists.",
			Fields: withRT(cat(blockB, blockP, []*FieldInfo{role, tableName}), rtPrecondition), Required: []string{"role", "tableName"}},
		{Name: "S3KeyExists", Family: FamilyPrecondition, Description: "Checks that an S3 key exists.",
			Fields:   withRT(cat(blockB, blockP, []*FieldInfo{role, str("s3Key", "S3 URI of the key, e.g. s3://bucket/key.")}), rtPrecondition),
			Required: []string{"role", "s3Key"}},
		{Name: "S3PrefixNotEmpty", Family: FamilyPrecondition, Description: "Checks that an S3 prefix holds at least one object.",
			Fields:   withRT(cat(blockB, blockP, []*FieldInfo{role, str("s3Prefix", "S3 URI of the prefix, e.g. s3://bucket/prefix/.")}), rtPrecondition),
			Required: []string{"role", "s3Prefix"}},
		{Name: "ShellCommandPrecondition", Family: FamilyPrecondition, Description: "Runs a shell command; exit status 0 means satisfied.",
			Fields: withRT(cat(blockB, blockP, []*FieldInfo{command, scriptURI, scriptArgument, stdout, stderr, runsOn, workerGroup}), rtPrecondition),
			// scriptUri takes scriptArgument here too (see ShellCommandActivity).
			OneOf: []Group{one("command", "scriptUri")}},
		{Name: "Exists", Family: FamilyPrecondition, Description: "Checks that a data node exists (not for DynamoDBDataNode).",
			Fields: withRT(cat(blockB, blockP, []*FieldInfo{runsOn, workerGroup}), without(rtPrecondition, "currentRetryCount", "lastRetryTime"))},

		// Databases.
		{Name: "JdbcDatabase", Family: FamilyDatabase, Description: "A database reached through JDBC (also used for Aurora).",
			Fields: cat(blockB, []*FieldInfo{
				str("connectionString", "JDBC connection string."),
				str("jdbcDriverClass", "JDBC driver class name."),
				username, password, plainPassword, databaseName, jdbcDriverJarURI, jdbcProperties}),
			Required: []string{"connectionString", "jdbcDriverClass", "username"},
			OneOf:    []Group{{Fields: []string{"*password", "password"}}}},
		{Name: "RdsDatabase", Family: FamilyDatabase, Description: "An Amazon RDS database instance.",
			Fields: cat(blockB, []*FieldInfo{
				str("rdsInstanceId", "RDS DB instance identifier."),
				username, password, plainPassword, databaseName, jdbcDriverJarURI, jdbcProperties, regionStr}),
			Required: []string{"rdsInstanceId", "username"},
			OneOf:    []Group{{Fields: []string{"*password", "password"}}}},
		{Name: "RedshiftDatabase", Family: FamilyDatabase, Description: "An Amazon Redshift database.",
			Fields: cat(blockB, []*FieldInfo{
				str("clusterId", "Redshift cluster identifier (connects with the PostgreSQL driver)."),
				str("connectionString", "JDBC connection string starting jdbc:redshift: (Redshift driver)."),
				username, password, plainPassword, databaseName, jdbcProperties, region}),
			Required: []string{"username"},
			OneOf:    []Group{one("clusterId", "connectionString"), {Fields: []string{"*password", "password"}}}},

		// Data formats.
		{Name: "CSV", Family: FamilyDataFormat, Description: "Comma-separated values.",
			Fields: cat(blockB, []*FieldInfo{column, escapeChar})},
		{Name: "TSV", Family: FamilyDataFormat, Description: "Tab-separated values.",
			Fields: cat(blockB, []*FieldInfo{column, columnSeparator, escapeChar, recordSeparator})},
		{Name: "Custom", Family: FamilyDataFormat, Description: "Delimited data with a custom column separator.",
			Fields: cat(blockB, []*FieldInfo{column, columnSeparator, recordSeparator}), Required: []string{"columnSeparator"}},
		{Name: "RegEx", Family: FamilyDataFormat, Description: "Records parsed with a regular expression.",
			Fields: cat(blockB, []*FieldInfo{column,
				str("inputRegEx", "Regular expression that parses a record."),
				str("outputFormat", "Output format of the fields (%1$s style).")})},
		{Name: "DynamoDBDataFormat", Family: FamilyDataFormat, Description: "DynamoDB table schema for Hive.",
			Fields: cat(blockB, []*FieldInfo{column})},
		{Name: "DynamoDBExportDataFormat", Family: FamilyDataFormat, Description: "DynamoDB export format for Hive.",
			Fields: cat(blockB, []*FieldInfo{column})},

		// Actions.
		{Name: "SnsAlarm", Family: FamilyAction, Description: "Publishes an Amazon SNS notification.",
			Fields: withRT(cat(blockB, []*FieldInfo{
				str("topicArn", "ARN of the SNS topic."),
				str("subject", "Subject line of the message (#{node.*} expressions allowed)."),
				str("message", "Body of the message (#{node.*} expressions allowed)."),
				role}), rtAction),
			Required: []string{"topicArn", "subject", "message", "role"}},
		{Name: "Terminate", Family: FamilyAction, Description: "Cancels the object that has not started by lateAfterTimeout (for onLateAction).",
			Fields: withRT(cat(blockB), rtAction)},

		// Schedule.
		{Name: "Schedule", Family: FamilySchedule, Description: "When scheduled objects run.",
			Fields: cat(blockB, []*FieldInfo{
				periodF("period", "How often the pipeline runs, e.g. \"1 day\" (15 minutes to 3 years).").bounds(15, 3*365*24*60, false),
				fld("startDateTime", KindDateTime, "First run, UTC: YYYY-MM-DDTHH:MM:SS."),
				enum("startAt", "Start at the first activation: FIRST_ACTIVATION_DATE_TIME.", "FIRST_ACTIVATION_DATE_TIME").
					deprecated("use an on-demand pipeline or startDateTime"),
				fld("endDateTime", KindDateTime, "Last run, UTC: YYYY-MM-DDTHH:MM:SS; cannot be combined with occurrences."),
				integer("occurrences", "Number of runs after activation; cannot be combined with endDateTime."),
				rField("maxActiveInstances").undocumentedCopy(),
			}),
			Required:  []string{"period"},
			OneOf:     []Group{one("startDateTime", "startAt")},
			Exclusive: []Pair{{A: "occurrences", B: "endDateTime"}}},

		// Utilities.
		{Name: "ShellScriptConfig", Family: FamilyUtility, Description: "A script run before or after an EMR-based activity.",
			Fields: cat(blockB, []*FieldInfo{scriptURI, scriptArgument})},
		{Name: "EmrConfiguration", Family: FamilyUtility, Description: "An EMR configuration classification (EMR 4+).",
			Fields: cat(blockB, []*FieldInfo{
				str("classification", "Configuration classification, e.g. hadoop-env or spark-defaults."),
				ref("configuration", "Nested configurations.", "EmrConfiguration").multi(),
				ref("property", "Properties of the classification.", "Property").multi(),
			}),
			Required: []string{"classification"}},
		{Name: "Property", Family: FamilyUtility, Description: "A key/value property of an EmrConfiguration.",
			Fields:   cat(blockB, []*FieldInfo{str("key", "Property name."), str("value", "Property value.")}),
			Required: []string{"key", "value"}},
		{Name: "EbsConfiguration", Family: FamilyUtility, Description: "EBS volumes of an EMR instance group.",
			Fields: cat(blockB, []*FieldInfo{
				boolean("ebsOptimized", "Use EBS-optimized instances."),
				ref("ebsBlockDeviceConfig", "Block device configurations.", "EbsBlockDeviceConfig").multi(),
			})},
		{Name: "EbsBlockDeviceConfig", Family: FamilyUtility, Description: "A group of identical EBS volumes.",
			Fields: cat(blockB, []*FieldInfo{
				integer("volumesPerInstance", "Number of volumes per instance."),
				ref("volumeSpecification", "Volume specification.", "VolumeSpecification"),
			})},
		{Name: "VolumeSpecification", Family: FamilyUtility, Description: "An EBS volume specification.",
			Fields: cat(blockB, []*FieldInfo{
				str("volumeType", "Volume type, e.g. gp2, io1."),
				integer("sizeInGB", "Volume size in GiB."),
				integer("iops", "Provisioned IOPS (io1)."),
			})},
	}
	for _, t := range types {
		if t.Runtime == nil {
			t.Runtime = runtimeNamesFor(t)
		}
	}
	return types
}

// undocumentedCopy returns a copy of a shared field marked as undocumented
// for the type that uses it (the samples use it where the guide does not).
func (f *FieldInfo) undocumentedCopy() *FieldInfo {
	c := *f
	c.Undocumented = true
	c.def = ""
	return &c
}

func runtimeNamesFor(t *Type) []string {
	switch t.Family {
	case FamilyActivity, FamilyDataNode:
		return rtRunnable
	case FamilyResource:
		return rtResource
	case FamilyPrecondition:
		if t.Name == "Exists" {
			return without(rtPrecondition, "currentRetryCount", "lastRetryTime")
		}
		return rtPrecondition
	case FamilyAction:
		return rtAction
	case FamilySchedule:
		return rtSchedule
	}
	return rtVersion
}
