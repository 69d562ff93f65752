/ mlregistry: the KX ML Registry (.ml.registry) as a native kdb+ extension.
/ Start with `q init.q [-local dir | -aws [s3://b] | -gcp [gs://b] | -azure [url]]`,
/ or \l this file from a session. Needs nothing from the KX ML toolkit.

/ @overview The folder holding libmlregistry.so and q/: $MLREGISTRY_HOME, the folder of the
/ script q was started with (when that is this init.q), $QHOME/mlregistry, or the current one.
/ @return {string} the folder
.ml.registry.i.home:{
  f:string .z.f;
  here:$[f like "*init.q";$[count i:where f="/";(last i)#f;"."];""];
  c:(getenv`MLREGISTRY_HOME;here;getenv[`QHOME],"/mlregistry";".");
  c:c where 0<count each c;
  ok:c where {not ()~key hsym`$x,"/libmlregistry.so"}each c;
  $[count ok;first ok;
    '"mlregistry: libmlregistry.so not found next to init.q, in $MLREGISTRY_HOME or in $QHOME/mlregistry"]
  }[]

/ @overview Binds one C function of the library
/ @param fn {symbol} the export's name
/ @param n {long} its arity
/ @return {fn} the q function
.ml.registry.i.lib:{[fn;n](`$":",.ml.registry.i.home,"/libmlregistry")2:(fn;n)}

system"l ",.ml.registry.i.home,"/q/registry.q"
system"l ",.ml.registry.i.home,"/q/python.q"
system"l ",.ml.registry.i.home,"/q/update.q"

/ Flags, config file and location are read in Rust; a bad flag stops loading.
.ml.registry.location:@[.ml.registry.i.init[.z.x;.z.K;.z.k];.ml.registry.i.home;
  {-2"mlregistry: ",x;if[.z.f like "*init.q";exit 1];'x}]
