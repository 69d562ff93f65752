/ Python models through PyKX or embedPy. The Python half is q/mlregistry_bridge.py; the
/ registry's decisions (files, versions, input shapes) are made in Rust. Without either
/ bridge, every Python path is an error that says what to load.

/ @overview The bridge this session has loaded
/ @return {symbol} `pykx, `embedpy, or ` for none
.ml.registry.i.py.bridge:{$[`pykx in key`;`pykx;`p in key`;`embedpy;`]}

/ The bridge the Python half was loaded into (` before the first use)
.ml.registry.i.py.loaded:`

/ @overview Loads the Python half into the bridge once; an error without a bridge
/ @param what {string} what needs Python, for the error
/ @return {symbol} the bridge
.ml.registry.i.py.need:{[what]
  b:.ml.registry.i.py.bridge[];
  if[null b;
    '"mlregistry: ",what," needs a Python bridge: load PyKX (\\l pykx.q) or embedPy (\\l p.q)"];
  if[not b~.ml.registry.i.py.loaded;
    f:-3!.ml.registry.i.home,"/q/mlregistry_bridge.py";
    code:"\n"sv("import importlib.util as _mlr_u, sys as _mlr_sys";
      "_mlr_s=_mlr_u.spec_from_file_location('mlregistry_bridge',",f,")";
      "_mlr_m=_mlr_u.module_from_spec(_mlr_s)";
      "_mlr_s.loader.exec_module(_mlr_m)";
      "_mlr_sys.modules['mlregistry_bridge']=_mlr_m";
      "del _mlr_u, _mlr_sys, _mlr_s, _mlr_m");
    $[b~`pykx;.pykx.pyexec code;.p.e code];
    `.ml.registry.i.py.loaded set b];
  b}

/ @overview Calls a function of the Python half
/ @param name {symbol} the function
/ @param args {list} its arguments (symbols arrive in Python as str)
/ @return {foreign} the Python result, wrapped
.ml.registry.i.py.call:{[name;args]
  e:"__import__('mlregistry_bridge').",string name;
  f:$[`pykx~.ml.registry.i.py.need string name;.pykx.eval e;.p.eval e];
  f . args}

/ @overview As .ml.registry.i.py.call, with the result converted to q
.ml.registry.i.py.q:{[name;args]r:.ml.registry.i.py.call[name;args];r`}

/ @overview Python text as a q string (bridges give str back as a symbol or a string)
.ml.registry.i.py.str:{$[-11h=type x;string x;(),x]}

/ @overview Python facts for .version.info and requirements 1b (:: without a bridge)
/ @param modelType {string} the model type
/ @return {dict|null} python_version, python_library_version, executable, prefix,
/ base_prefix and, in a virtualenv, pip_freeze
.ml.registry.i.env:{[modelType]
  if[null .ml.registry.i.py.bridge[];:(::)];
  t:@[{$[-11h=type x;x;`$x]};modelType;`];
  .j.k .ml.registry.i.py.str .ml.registry.i.py.q[`env;enlist t]}

/ @overview Saves a model object, or each object of a dictionary, under folder d
/ @return {string|dict} the path written, or key!path
.ml.registry.i.py.write:{[t;d;keyed;model]
  one:{[t;d;k;m].ml.registry.i.py.str .ml.registry.i.py.q[`save;(m;`$t;`$d;k)]}[t;d];
  $[keyed;key[model]!one'[key model;value model];one[`;model]]}

/ @overview set.model's step for Python models. A model object (or a dictionary of them) is
/ saved to a temporary file and store gets the path(s) instead; a model file is loaded
/ once through the bridge, when one is loaded, to check it as the original does. Anything
/ else (q models, and every model of type "q") goes to store as it is.
/ @param model {any} the model argument of set.model
/ @param modelType {string} its model type
/ @param store {fn} stores a model given in-process or as a file path
/ @return {any} what store returns
.ml.registry.i.py.save:{[model;modelType;store]
  t:$[-11h=type modelType;string modelType;10h=abs type modelType;(),modelType;""];
  items:$[99h=type model;value model;enlist model];
  if[(t~"q")or(0=count t)or 0=count items;:store model];
  if[all{type[x]in 105 112h}each items;:.ml.registry.i.py.viaFile[t;model;store]];
  if[(not null .ml.registry.i.py.bridge[])and all{type[x]in -11 10 11h}each items;
    .ml.registry.i.py.check[t]each items];
  store model}

/ @overview Saves Python model objects to a temporary folder, calls store with the path(s)
/ and removes the folder whatever happens
.ml.registry.i.py.viaFile:{[t;model;store]
  .ml.registry.i.py.need"saving a ",t," model object";
  d:.ml.registry.i.py.str .ml.registry.i.py.q[`tempdir;enlist`];
  keyed:99h=type model;
  r:.[{[s;t;d;k;m](1b;s .ml.registry.i.py.write[t;d;k;m])};(store;t;d;keyed;model);{(0b;x)}];
  .ml.registry.i.py.call[`discard;enlist`$d];
  $[r 0;r 1;'r 1]}

/ @overview Loads a model file given to set.model through the bridge, as a check
/ @param t {string} model type
/ @param x {string|symbol|symbol[]} the path
.ml.registry.i.py.check:{[t;x]
  p:$[10h=abs type x;(),x;11h=type x;"/"sv string x;string x];
  .ml.registry.i.py.load[t;$[":"~first p;1_p;p]];}

/ @overview Loads a stored Python model file (joblib, keras, torch or pyspark)
/ @param modelType {string} the model type
/ @param path {string} local path of the file or folder
/ @return {foreign} the model object
.ml.registry.i.py.load:{[modelType;path]
  .ml.registry.i.py.need"loading a ",modelType," model";
  .ml.registry.i.py.call[`load;(`$modelType;`$path)]}

/ @overview Loads a .p file (run in __main__) or a .py file (imported) of a model version
/ @param path {string} local path
.ml.registry.i.py.code:{[path]
  .ml.registry.i.py.need"loading ",path;
  .ml.registry.i.py.call[`load_code;enlist`$path];}

/ @overview The prediction function of a Python model: the input transform (see
/ .ml.registry.i.input), the model's predict callable, and the result converted to q
/ @param t {symbol|string} the model type (sklearn, xgboost, keras, torch, pyspark)
/ @param m {foreign} the model
/ @param a {boolean} axis
/ @return {fn} unary
.ml.registry.i.py.predictor:{[t;m;a]
  t:$[-11h=type t;t;`$t];
  .ml.registry.i.py.need"predicting with a ",string[t]," model";
  {[f;t;a;x]r:f .ml.registry.i.input[t;a;x];r`}[.ml.registry.i.py.call[`predictor;(t;m)];t;a]}

/ @overview The update callable of a Python model (sklearn partial_fit)
/ @return {foreign} callable giving the updated model
.ml.registry.i.py.updater:{[t;m]
  .ml.registry.i.py.need"updating a ",string[t]," model";
  .ml.registry.i.py.call[`updater;(t;m)]}

/ @overview A DataFrame from a column dictionary: `pandas, or `spark with a features column
.ml.registry.i.py.frame:{[kind;columns]
  .ml.registry.i.py.need"a ",string[kind]," DataFrame";
  .ml.registry.i.py.call[`frame;(kind;columns)]}

/ @overview A pandas DataFrame given as input, as a q table
.ml.registry.i.py.table:{[df]
  .ml.registry.i.py.need"a DataFrame input";
  d:.ml.registry.i.py.q[`table;enlist df];
  flip(`$.ml.registry.i.py.str each key d)!value d}
