/ Monitoring: the update.* functions and the statistics set.model computes for `data`.
/ The library computes every statistic and rewrites modelInfo.json; q only calls the model
/ (timing it on rows, predicting on the table) and passes on what it measured.

/ C functions
.ml.registry.i.updateConfig:.ml.registry.i.lib[`mlr_update_config;7]
.ml.registry.i.updateRequirements:.ml.registry.i.lib[`mlr_update_requirements;7]
.ml.registry.i.updateLatency:.ml.registry.i.lib[`mlr_update_latency;7]
.ml.registry.i.updateNulls:.ml.registry.i.lib[`mlr_update_nulls;6]
.ml.registry.i.updateInfinity:.ml.registry.i.lib[`mlr_update_infinity;6]
.ml.registry.i.updateCsi:.ml.registry.i.lib[`mlr_update_csi;6]
.ml.registry.i.updatePsi:.ml.registry.i.lib[`mlr_update_psi;7]
.ml.registry.i.updateType:.ml.registry.i.lib[`mlr_update_type;6]
.ml.registry.i.updateSupervise:.ml.registry.i.lib[`mlr_update_supervise;6]
.ml.registry.i.updateSchema:.ml.registry.i.lib[`mlr_update_schema;6]

/ @overview Applies f to x; a signal becomes a dictionary holding its message
/ @param f {fn} unary function
/ @param x {any} its argument
/ @return {any} f x, or `error!msg when f signals
.ml.registry.i.try:{[f;x]@[f;x;{enlist[`error]!enlist x}]}

/ @overview A model type as a string (it may be given as a string, a char or a symbol)
/ @param t {string|char|symbol} the model type
/ @return {string} the model type
.ml.registry.i.typeText:{[t]$[-11h=type t;string t;(),t]}

/ @overview A model's prediction function, wrapped as the original wraps it; Python
/ models go through the bridge's .ml.registry.i.py.predictor when one is loaded
/ @param t {string} the model type
/ @param model {fn|dict|foreign} the model
/ @param axis {boolean} 1b keeps columns, 0b turns them into rows (.ml.registry.i.input)
/ @return {fn} unary prediction function
.ml.registry.i.predictor:{[t;model;axis]
  if[not t~(),"q";
    p:@[value;`.ml.registry.i.py.predictor;0b];
    if[0b~p;'"mlregistry: monitoring a ",t," model needs a Python bridge (PyKX or embedPy)"];
    :p[t;model;axis]];
  {[f;axis;x]f .ml.registry.i.input["q";axis;x]}[$[99h=type model;model`predict;model];axis]}

/ @overview Seconds each of 30 single-row calls of f takes (rows repeat when fewer)
/ @param f {fn} applied to one row
/ @param data {table} the rows
/ @return {float[]} seconds per call
.ml.registry.i.time:{[f;data]{[f;r]t:.z.p;f r;1e-9*"j"$.z.p-t}[f]each 30#data}

/ @overview What set.model and update.config measure by calling one model on its data:
/ the time of each of 30 single-row predictions and the predictions on the whole table
/ @param t {string} the model type
/ @param model {any} the model
/ @param data {table} the data (anything else: nothing is measured)
/ @return {dict} `latency`predictions, each the values or `error!msg
.ml.registry.i.measure:{[t;model;data]
  if[not 98h=type data;:`latency`predictions!(::;::)];
  rows:{[t;m;d]
    .ml.registry.i.time[{[p;r]p enlist value r}[.ml.registry.i.predictor[t;m;1b]];d]};
  whole:{[t;m;d]raze .ml.registry.i.predictor[t;m;0b]d};
  `latency`predictions!.ml.registry.i.try[;data]each(rows[t;model];whole[t;model])}

/ @overview The config with the measurements of the model(s) on config`data added under
/ the internal key mlr_monitor (per model key for keyed models)
/ @param model {any} the model, or a dictionary of keyed models
/ @param modelType {string|symbol} the model type
/ @param config {dict|null} the config
/ @return {dict|null} the config, with mlr_monitor when it holds data
.ml.registry.i.monitorInputs:{[model;modelType;config]
  if[not 99h=type config;:config];
  if[not`data in key config;:config];
  t:.ml.registry.i.typeText modelType;
  data:config`data;
  keyed:$[99h=type model;not(t~(),"q")&any`predict`modelInfo in key model;0b];
  k:$[keyed&99h=type data;key[model]inter key data;`$()];
  m:$[not keyed;.ml.registry.i.measure[t;model;data];
    99h=type data;k!.ml.registry.i.measure[t]'[model k;data k];
    ::];
  config,enlist[`mlr_monitor]!enlist m}

/ @overview What set.model passes on: the model and the config, with the measurements
/ of the model on config`data added
/ @param model {any} the model
/ @param modelType {string} the model type
/ @param config {dict|null} the config
/ @return {list} (model;config)
.ml.registry.i.prepare:{[model;modelType;config]
  (model;.ml.registry.i.monitorInputs[model;modelType;config])}

/ @overview update.config's measurements: the stored model is loaded (code files first)
/ and measured on config`data; a model that cannot be loaded gives no measurements
/ @param r {dict} what the library's get.model export gave
/ @param config {dict} the config
/ @return {dict} the config with mlr_monitor added
.ml.registry.i.storedInputs:{[r;config]
  m:.ml.registry.i.try[.ml.registry.i.model;r];
  if[99h=type m;if[(enlist`error)~key m;
    :config,enlist[`mlr_monitor]!enlist`latency`predictions!2#enlist m]];
  e:$[r`keyed;first value r`models;r`models];
  t:e`modelType;
  .ml.registry.i.monitorInputs[$[r`keyed;{x`model}each m;m`model];t;config]}

/ @overview Update a stored model's requirements, monitoring statistics (data, with the
/ model loaded and measured) and supervised metrics
/ @param folderPath {dict|string|null} registry location
/ @param experimentName {string|null} experiment filter
/ @param modelName {string|null} model (:: for the latest)
/ @param version {long[]|null} version (:: for the highest)
/ @param config {dict} requirements, data, supervise
/ @return {null}
.ml.registry.update.config:{[folderPath;experimentName;modelName;version;config]
  if[99h=type config;if[`data in key config;
    r:.ml.registry.i.getModel[.ml.registry.location;folderPath;experimentName;modelName;
      version;::];
    config:.ml.registry.i.storedInputs[r;config]]];
  .ml.registry.i.updateConfig[.ml.registry.location;folderPath;experimentName;modelName;
    version;config;.ml.registry.i.env"python"]}

/ @overview Rewrite a stored model's requirements.txt
/ @param requirements {string[]|symbol|boolean} list of requirements, a file, or 0b
/ @return {null}
.ml.registry.update.requirements:{[folderPath;experimentName;modelName;version;requirements]
  .ml.registry.i.updateRequirements[.ml.registry.location;folderPath;experimentName;
    modelName;version;requirements;.ml.registry.i.env"python"]}

/ @overview Time a q model on the first 30 rows of data (as row dictionaries); avg and std
/ of the seconds per call become the latency statistics
/ @param model {fn} the model
/ @param data {table} the rows
/ @return {null}
.ml.registry.update.latency:{[folderPath;experimentName;modelName;version;model;data]
  s:$[98h=type data;.ml.registry.i.try[.ml.registry.i.time[model];data];::];
  .ml.registry.i.updateLatency[.ml.registry.location;folderPath;experimentName;modelName;
    version;data;s]}

/ @overview Store the median of each column (infinities replaced) as null replacements
/ @param data {table} the data
/ @return {null}
.ml.registry.update.nulls:{[folderPath;experimentName;modelName;version;data]
  .ml.registry.i.updateNulls[.ml.registry.location;folderPath;experimentName;modelName;
    version;data]}

/ @overview Store each column's minimum and maximum (infinities replaced) as infinity
/ replacements
/ @param data {table} the data
/ @return {null}
.ml.registry.update.infinity:{[folderPath;experimentName;modelName;version;data]
  .ml.registry.i.updateInfinity[.ml.registry.location;folderPath;experimentName;modelName;
    version;data]}

/ @overview Store the percentile bins of each column (characteristic stability index)
/ @param data {table} the data
/ @return {null}
.ml.registry.update.csi:{[folderPath;experimentName;modelName;version;data]
  .ml.registry.i.updateCsi[.ml.registry.location;folderPath;experimentName;modelName;
    version;data]}

/ @overview Store the percentile bins of a model's predictions on data (population
/ stability index)
/ @param model {fn} the model, applied to the whole table
/ @param data {table} the data
/ @return {null}
.ml.registry.update.psi:{[folderPath;experimentName;modelName;version;model;data]
  p:$[98h=type data;.ml.registry.i.try[{raze x y}[model];data];::];
  .ml.registry.i.updatePsi[.ml.registry.location;folderPath;experimentName;modelName;
    version;data;p]}

/ @overview Set the model type recorded in modelInfo.json
/ @param format {string} the type, e.g. "sklearn"
/ @return {null}
.ml.registry.update.type:{[folderPath;experimentName;modelName;version;format]
  .ml.registry.i.updateType[.ml.registry.location;folderPath;experimentName;modelName;
    version;format]}

/ @overview Set the supervised metrics to monitor
/ @param metrics {string[]} metric names, e.g. enlist".ml.mse"
/ @return {null}
.ml.registry.update.supervise:{[folderPath;experimentName;modelName;version;metrics]
  .ml.registry.i.updateSupervise[.ml.registry.location;folderPath;experimentName;modelName;
    version;metrics]}

/ @overview Store the column types of data (as meta shows them)
/ @param data {table} the data
/ @return {null}
.ml.registry.update.schema:{[folderPath;experimentName;modelName;version;data]
  .ml.registry.i.updateSchema[.ml.registry.location;folderPath;experimentName;modelName;
    version;data]}
