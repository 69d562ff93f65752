/ Monitoring: the update.* functions and the statistics set.model computes for `data`.

/ @overview What set.model passes on: the model (a file path for in-process Python models)
/ and the config (with q-side monitoring inputs added)
/ @return {list} (model;config)
.ml.registry.i.prepare:{[model;modelType;config]$[""~modelType;(model;config);(model;config)]}
