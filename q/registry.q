/ The .ml.registry API: thin bindings to libmlregistry. Each public function passes the
/ current .ml.registry.location first, so `::` as folderPath means that location.

/ C functions
.ml.registry.i.init:.ml.registry.i.lib[`mlr_init;4]
.ml.registry.i.manifest:.ml.registry.i.lib[`mlr_manifest;1]
.ml.registry.i.newRegistry:.ml.registry.i.lib[`mlr_new_registry;3]
.ml.registry.i.newExperiment:.ml.registry.i.lib[`mlr_new_experiment;4]
.ml.registry.i.setModel:.ml.registry.i.lib[`mlr_set_model;8]
.ml.registry.i.setParameters:.ml.registry.i.lib[`mlr_set_parameters;7]
.ml.registry.i.logMetric:.ml.registry.i.lib[`mlr_log_metric;7]
.ml.registry.i.getModel:.ml.registry.i.lib[`mlr_get_model;6]
.ml.registry.i.getPredict:.ml.registry.i.lib[`mlr_get_predict;5]
.ml.registry.i.getUpdate:.ml.registry.i.lib[`mlr_get_update;6]
.ml.registry.i.reshape:.ml.registry.i.lib[`mlr_reshape;3]
.ml.registry.i.getVersion:.ml.registry.i.lib[`mlr_get_version;5]
.ml.registry.i.getMetric:.ml.registry.i.lib[`mlr_get_metric;6]
.ml.registry.i.getParameters:.ml.registry.i.lib[`mlr_get_parameters;6]
.ml.registry.i.getModelStore:.ml.registry.i.lib[`mlr_get_model_store;3]
.ml.registry.i.queryModelStore:.ml.registry.i.lib[`mlr_query_model_store;3]
.ml.registry.i.deleteRegistry:.ml.registry.i.lib[`mlr_delete_registry;3]
.ml.registry.i.deleteExperiment:.ml.registry.i.lib[`mlr_delete_experiment;3]
.ml.registry.i.deleteModel:.ml.registry.i.lib[`mlr_delete_model;5]
.ml.registry.i.deleteParameters:.ml.registry.i.lib[`mlr_delete_parameters;6]
.ml.registry.i.deleteMetrics:.ml.registry.i.lib[`mlr_delete_metrics;5]
.ml.registry.i.deleteMetric:.ml.registry.i.lib[`mlr_delete_metric;6]
.ml.registry.i.deleteCode:.ml.registry.i.lib[`mlr_delete_code;6]

/ @overview Keeps the global modelStore (root namespace) equal to the stored one
/ @param r {dict} `result`modelStore from the library
/ @return {any} the result
.ml.registry.i.withStore:{[r]`modelStore set r`modelStore;r`result}

/ @overview Create a registry
/ @param folderPath {dict|string|null} where (:: is .ml.registry.location)
/ @param config {dict|null} options, returned with the registry's paths added
/ @return {dict} config with storage, folderPath, registryPath, modelStorePath
.ml.registry.new.registry:{[folderPath;config]
  .ml.registry.i.newRegistry[.ml.registry.location;folderPath;config]}

/ @overview Create an experiment folder (nested with "/")
/ @param folderPath {dict|string|null} registry location
/ @param experimentName {string} the experiment
/ @param config {dict|null} options
/ @return {dict} config with the experiment's path added
.ml.registry.new.experiment:{[folderPath;experimentName;config]
  .ml.registry.i.newExperiment[.ml.registry.location;folderPath;experimentName;config]}

/ @overview Store a model as a new version (or fill in an existing explicit version)
/ @param folderPath {dict|string|null} registry location
/ @param experimentName {string|null} experiment, :: for none
/ @param model {fn|dict|string|symbol|foreign} the model, or a file path to it
/ @param modelName {string} the model's name
/ @param modelType {string} "q", "python", "sklearn", "xgboost", "keras", "torch", "pyspark"
/ @param config {dict|null} description, major, majorVersion, version, requirements, code,
/ axis, data, supervise
/ @return {guid} the model version's uniqueID
.ml.registry.set.model:{[folderPath;experimentName;model;modelName;modelType;config]
  a:.ml.registry.i.prepare[model;modelType;config];
  store:.ml.registry.i.setModel[.ml.registry.location;folderPath;experimentName;;modelName;
    modelType;a 1;.ml.registry.i.env modelType];
  .ml.registry.i.withStore .ml.registry.i.py.save[a 0;modelType;store]}

/ @overview Store parameters of a model version as JSON
/ @param folderPath {dict|string|null} registry location
/ @param experimentName {string|null} experiment filter
/ @param modelName {string|null} model (:: for the latest)
/ @param version {long[]|null} version (:: for the highest)
/ @param paramName {string|symbol} name of the parameter file
/ @param params {any} the parameters
/ @return {symbol} the file written
.ml.registry.set.parameters:{[folderPath;experimentName;modelName;version;paramName;params]
  .ml.registry.i.setParameters[.ml.registry.location;folderPath;experimentName;modelName;version;
    paramName;params]}

/ @overview Log a metric of a model version
/ @param metricName {symbol|string} the metric
/ @param metricValue {any} its value
/ @return {null}
.ml.registry.log.metric:{[folderPath;experimentName;modelName;version;metricName;metricValue]
  .ml.registry.i.logMetric[.ml.registry.location;folderPath;experimentName;modelName;version;
    metricName;metricValue]}

/ @overview Load the code files of a version, then its model(s)
/ @param r {dict} `keyed`models`code from the library
/ @return {dict} `modelInfo`model, or key!(`modelInfo`model) for keyed models
.ml.registry.i.model:{[r]
  .ml.registry.i.loadCode each r`code;
  $[r`keyed;.ml.registry.i.loadModel each r`models;.ml.registry.i.loadModel r`models]}

/ @overview One model: q models come decoded; files are loaded here (q `get`, or Python)
/ @param m {dict} `modelInfo`model`modelType`modelPath
/ @return {dict} `modelInfo`model
.ml.registry.i.loadModel:{[m]
  mdl:$[not(::)~m`model;m`model;
    "q"~m`modelType;get hsym`$m`modelPath;
    .ml.registry.i.py.load[m`modelType;m`modelPath]];
  `modelInfo`model!(m`modelInfo;mdl)}

/ @overview Load one code file: .q with \l, .p and .py through the Python bridge
/ @param f {string} local path
.ml.registry.i.loadCode:{[f]$[f like "*.q";system"l ",f;.ml.registry.i.py.code f]}

/ @overview Retrieve a model and its information
/ @return {dict} `modelInfo`model
.ml.registry.get.model:{[folderPath;experimentName;modelName;version]
  .ml.registry.i.model .ml.registry.i.getModel[.ml.registry.location;folderPath;experimentName;
    modelName;version;::]}

/ @overview Retrieve one sub-model of a keyed model (modelKey :: gives them all)
/ @param modelKey {symbol|null} the key of the sub-model
/ @return {dict} `modelInfo`model
.ml.registry.get.keyedmodel:{[folderPath;experimentName;modelName;version;modelKey]
  .ml.registry.i.model .ml.registry.i.getModel[.ml.registry.location;folderPath;experimentName;
    modelName;version;modelKey]}

/ @overview What a model's callable receives: the input reshaped in Rust by model type and
/ axis, made a DataFrame through the Python bridge where the model wants one
/ @param t {symbol} model type
/ @param a {boolean} axis
/ @param x {any} the input (a Python DataFrame is read into a q table first)
.ml.registry.i.input:{[t;a;x]
  if[type[x]in 105 112h;x:.ml.registry.i.py.table x];
  r:.ml.registry.i.reshape[t;a;x];
  $[null r`convert;r`data;.ml.registry.i.py.frame[r`convert;r`data]]}

/ @overview A prediction function: the model's callable after the input transform
/ @return {fn} unary: input data to predictions
.ml.registry.get.predict:{[folderPath;experimentName;modelName;version]
  r:.ml.registry.i.getPredict[.ml.registry.location;folderPath;experimentName;modelName;
    version];
  m:(.ml.registry.i.model r)`model;
  if[(type[m]in 105 112h)&r[`type]in`sklearn`xgboost`keras`torch`pyspark;
    :.ml.registry.i.py.predictor[r`type;m;r`axis]];
  {[f;t;a;x]f .ml.registry.i.input[t;a;x]}[$[99h=type m;m`predict;m];r`type;r`axis]}

/ @overview An update function: the model's update callable after the input transform
/ @param supervised {boolean} 1b: the function takes features and target
/ @return {fn} [features] or [features;target] to the updated model
.ml.registry.get.update:{[folderPath;experimentName;modelName;version;supervised]
  r:.ml.registry.i.getUpdate[.ml.registry.location;folderPath;experimentName;modelName;
    version;supervised];
  m:(.ml.registry.i.model r)`model;
  f:$[99h=type m;$[`update in key m;m`update;'"get.update: the q model has no update key"];
    type[m]in 105 112h;.ml.registry.i.py.updater[r`type;m];
    '"get.update: update is not available for this model"];
  $[supervised;{[f;t;a;x;y]f[.ml.registry.i.input[t;a;x];y]};
    {[f;t;a;x]f .ml.registry.i.input[t;a;x]}][f;r`type;r`axis]}

/ @overview The environment a version was stored from (.version.info)
/ @return {dict} q_version, model_type and, for Python models, python_version(s)
.ml.registry.get.version:{[folderPath;experimentName;modelName;version]
  .ml.registry.i.getVersion[.ml.registry.location;folderPath;experimentName;modelName;version]}

/ @overview Metrics of a version
/ @param param {null|string|symbol|symbol[]|dict} which metrics
/ @return {table} timestamp, metricName, metricValue
.ml.registry.get.metric:{[folderPath;experimentName;modelName;version;param]
  .ml.registry.i.getMetric[.ml.registry.location;folderPath;experimentName;modelName;version;param]}

/ @overview Parameters of a version
/ @param paramName {string|symbol} the parameter file
/ @return {any} the JSON-decoded parameters
.ml.registry.get.parameters:{[folderPath;experimentName;modelName;version;paramName]
  .ml.registry.i.getParameters[.ml.registry.location;folderPath;experimentName;modelName;version;
    paramName]}

/ @overview The modelStore (also sets the global modelStore)
/ @return {table} the modelStore
.ml.registry.get.modelStore:{[folderPath;config]
  .ml.registry.i.withStore .ml.registry.i.getModelStore[.ml.registry.location;folderPath;config]}

/ @overview The modelStore rows matching modelName, experimentName, modelType (patterns),
/ version, registrationTime or uniqueID
/ @return {table} matching rows
.ml.registry.query.modelStore:{[folderPath;config]
  .ml.registry.i.queryModelStore[.ml.registry.location;folderPath;config]}

/ @overview Delete a registry (none there is not an error)
.ml.registry.delete.registry:{[folderPath;config]
  .ml.registry.i.deleteRegistry[.ml.registry.location;folderPath;config]}

/ @overview Delete an experiment, its sub-experiments and their models
.ml.registry.delete.experiment:{[folderPath;experimentName]
  .ml.registry.i.withStore .ml.registry.i.deleteExperiment[.ml.registry.location;folderPath;
    experimentName]}

/ @overview Delete one version of a model, or (version ::) all of them
.ml.registry.delete.model:{[folderPath;experimentName;modelName;version]
  .ml.registry.i.withStore .ml.registry.i.deleteModel[.ml.registry.location;folderPath;
    experimentName;modelName;version]}

/ @overview Delete one parameter file of a version
.ml.registry.delete.parameters:{[folderPath;experimentName;modelName;version;paramFile]
  .ml.registry.i.deleteParameters[.ml.registry.location;folderPath;experimentName;modelName;
    version;paramFile]}

/ @overview Delete every metric of a version
.ml.registry.delete.metrics:{[folderPath;experimentName;modelName;version]
  .ml.registry.i.deleteMetrics[.ml.registry.location;folderPath;experimentName;modelName;version]}

/ @overview Delete the metrics whose name is like metricName
.ml.registry.delete.metric:{[folderPath;experimentName;modelName;version;metricName]
  .ml.registry.i.deleteMetric[.ml.registry.location;folderPath;experimentName;modelName;version;
    metricName]}

/ @overview Delete one code file of a version
.ml.registry.delete.code:{[folderPath;experimentName;modelName;version;codeFile]
  .ml.registry.i.deleteCode[.ml.registry.location;folderPath;experimentName;modelName;version;
    codeFile]}
