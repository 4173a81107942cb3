// The Postman script API (pm.*, legacy globals, console, require) for one script execution.
// Written for this harness; evaluated once into the run's QuickJS context, which every script of
// the run then shares (as Postman's sandbox does: a global one script sets, a later one sees).
// Nothing here calls out of the engine while a script runs (the engine's time limit forbids it):
// the host passes everything in through __setup(), and takes back from __finish() the variable
// changes and the queued pm.sendRequest calls, which it does itself.
"use strict";
// What one execution did: __setup() starts it afresh, __finish() hands it to the host.
function __freshState() {
  return {
    tests: [], console: [], next: undefined, skip: false, pending: [], asyncErrors: [],
    changes: [], sends: [], inFlight: [], testCount: 0,
  };
}
var __state = __freshState();
var __scopes, __osEnv, __envOverrides;

// ---- inspect: how values are shown in assertion messages (Chai's style) ----
function __inspect(value, depth) {
  depth = depth || 0;
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  var t = typeof value;
  if (t === "string") return "'" + value.replace(/'/g, "\\'") + "'";
  if (t === "number" || t === "boolean") return (Object.is(value, -0) ? "-0" : String(value));
  if (t === "function") return "[Function" + (value.name ? " " + value.name : "") + "]";
  if (value instanceof RegExp) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) return value.name + ": " + value.message;
  if (depth > 2) return Array.isArray(value) ? "[Array]" : "{ Object }";
  var parts, open, close;
  if (Array.isArray(value)) {
    parts = value.map(function (v) { return __inspect(v, depth + 1); });
    open = "[ "; close = " ]";
    if (!parts.length) return "[]";
  } else {
    parts = Object.keys(value).map(function (k) {
      var key = /^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'";
      return key + ": " + __inspect(value[k], depth + 1);
    });
    open = "{ "; close = " }";
    if (!parts.length) return "{}";
  }
  // Long values are cut like Chai's: the first entries, then "…(n)" for the rest.
  var out = [], used = open.length + close.length;
  for (var i = 0; i < parts.length; i++) {
    var rest = parts.length - i;
    if (i > 0 && used + parts[i].length > 40) { out.push("…(" + rest + ")"); break; }
    out.push(parts[i]); used += parts[i].length + 2;
  }
  return open + out.join(", ") + close;
}

function AssertionError(message) {
  this.name = "AssertionError";
  this.message = message;
  this.stack = new Error(message).stack;
}
AssertionError.prototype = Object.create(Error.prototype);
AssertionError.prototype.constructor = AssertionError;

function __deepEqual(a, b) {
  if (a === b) return a !== 0 || 1 / a === 1 / b;
  if (a !== a && b !== b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  var ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (var i = 0; i < ka.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !__deepEqual(a[ka[i]], b[ka[i]])) return false;
  }
  return true;
}

function __typeName(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof RegExp) return "regexp";
  if (v instanceof Date) return "date";
  return typeof v;
}

function __isResponse(v) { return v !== null && typeof v === "object" && v.__pmResponse === true; }

// ---- Assertion: the Chai BDD chains Postman collections use ----
function Assertion(obj, message) {
  this._obj = obj; this._msg = message; this._flags = {};
}
Assertion.prototype.assert = function (ok, positive, negative, expected, actual) {
  var negate = !!this._flags.not;
  if (negate ? ok : !ok) {
    var text = (negate ? negative : positive)
      .replace(/#\{this\}/g, function () { return __inspect(this._obj); }.bind(this))
      .replace(/#\{exp\}/g, function () { return __inspect(expected); })
      .replace(/#\{act\}/g, function () { return __inspect(actual); });
    throw new AssertionError((this._msg ? this._msg + ": " : "") + text);
  }
  return this;
};
function __word(name, getter) { Object.defineProperty(Assertion.prototype, name, { get: getter, configurable: true }); }
["to", "be", "been", "is", "that", "which", "and", "has", "have", "with", "at", "of", "same", "but", "does", "still"].forEach(function (w) {
  __word(w, function () { return this; });
});
__word("not", function () { this._flags.not = !this._flags.not; return this; });
__word("deep", function () { this._flags.deep = true; return this; });
__word("nested", function () { this._flags.nested = true; return this; });
__word("own", function () { this._flags.own = true; return this; });
__word("any", function () { this._flags.any = true; this._flags.all = false; return this; });
__word("all", function () { this._flags.all = true; this._flags.any = false; return this; });

// `include`/`contain` are both a flag (.include.members) and a method (.include(x)).
function __include(expected) {
  var obj = this._obj, deep = this._flags.deep, found;
  var what = deep ? "deep include" : "include";
  if (typeof obj === "string") found = obj.indexOf(expected) !== -1;
  else if (Array.isArray(obj)) found = obj.some(function (v) { return deep ? __deepEqual(v, expected) : v === expected; });
  else if (obj !== null && typeof obj === "object" && expected !== null && typeof expected === "object") {
    // An object includes another when it has each of its properties (Chai words it so).
    var self = this, negate = !!this._flags.not;
    var keys = Object.keys(expected), matches = keys.map(function (k) {
      return __has(obj, k) && (deep ? __deepEqual(obj[k], expected[k]) : obj[k] === expected[k]);
    });
    var first = negate ? 0 : matches.indexOf(false);
    if (negate ? keys.length === 0 || matches.indexOf(false) !== -1 : first === -1) return this;
    var key = keys[first], label = (deep ? "deep property " : "property ") + __inspect(key);
    if (negate) return self.assert(true, "", "expected #{this} to not have " + label + " of #{exp}", expected[key]);
    if (!__has(obj, key)) return self.assert(false, "expected #{this} to have " + label, "");
    return self.assert(false, "expected #{this} to have " + label + " of #{exp}, but got #{act}", "", expected[key], obj[key]);
  } else {
    throw new AssertionError("object tested must be an array, a map, an object, a set, a string, or a weakset, but " + __typeName(obj) + " given");
  }
  return this.assert(found, "expected #{this} to " + what + " #{exp}", "expected #{this} to not " + what + " #{exp}", expected);
}
["include", "includes", "contain", "contains"].forEach(function (name) {
  Object.defineProperty(Assertion.prototype, name, {
    configurable: true,
    get: function () {
      var self = this;
      self._flags.contains = true;
      var fn = function (expected) { return __include.call(self, expected); };
      Object.setPrototypeOf(fn, self);
      return fn;
    },
  });
});

function __method(names, fn) { names.forEach(function (n) { Assertion.prototype[n] = fn; }); }
__method(["equal", "equals", "eq"], function (expected) {
  if (this._flags.deep) return this.eql(expected);
  return this.assert(this._obj === expected, "expected #{this} to equal #{exp}", "expected #{this} to not equal #{exp}", expected, this._obj);
});
__method(["eql", "eqls"], function (expected) {
  return this.assert(__deepEqual(this._obj, expected), "expected #{this} to deeply equal #{exp}", "expected #{this} to not deeply equal #{exp}", expected, this._obj);
});
__method(["above", "gt", "greaterThan"], function (n) {
  return this.assert(this._obj > n, "expected #{this} to be above #{exp}", "expected #{this} to be at most #{exp}", n);
});
__method(["least", "gte"], function (n) {
  return this.assert(this._obj >= n, "expected #{this} to be at least #{exp}", "expected #{this} to be below #{exp}", n);
});
__method(["below", "lt", "lessThan"], function (n) {
  return this.assert(this._obj < n, "expected #{this} to be below #{exp}", "expected #{this} to be at least #{exp}", n);
});
__method(["most", "lte"], function (n) {
  return this.assert(this._obj <= n, "expected #{this} to be at most #{exp}", "expected #{this} to be above #{exp}", n);
});
__method(["within"], function (start, finish) {
  var range = start + ".." + finish;
  return this.assert(this._obj >= start && this._obj <= finish, "expected #{this} to be within " + range, "expected #{this} to not be within " + range);
});
__method(["oneOf"], function (list) {
  var obj = this._obj, deep = this._flags.deep;
  var found = list.some(function (v) { return deep ? __deepEqual(v, obj) : v === obj; });
  return this.assert(found, "expected #{this} to be one of #{exp}", "expected #{this} to not be one of #{exp}", list);
});
__method(["match", "matches"], function (re) {
  return this.assert(re.exec(this._obj) !== null, "expected #{this} to match " + re, "expected #{this} not to match " + re);
});
__method(["string"], function (s) {
  return this.assert(typeof this._obj === "string" && this._obj.indexOf(s) !== -1, "expected #{this} to contain #{exp}", "expected #{this} to not contain #{exp}", s);
});
__method(["a", "an"], function (type) {
  var article = /^[aeiou]/i.test(type) ? "an " : "a ";
  return this.assert(__typeName(this._obj) === String(type).toLowerCase(), "expected #{this} to be " + article + type, "expected #{this} not to be " + article + type);
});
__method(["instanceof", "instanceOf"], function (ctor) {
  return this.assert(this._obj instanceof ctor, "expected #{this} to be an instance of " + ctor.name, "expected #{this} to not be an instance of " + ctor.name);
});
__method(["property", "haveOwnProperty", "ownProperty"], function (name, value) {
  var obj = this._obj, has, actual;
  var label = this._flags.nested ? "nested property " : this._flags.deep ? "deep property " : "property ";
  if (this._flags.nested) {
    var parts = String(name).replace(/\[(\d+)\]/g, ".$1").split("."), cur = obj;
    has = true;
    for (var i = 0; i < parts.length; i++) {
      if (cur === null || cur === undefined || !(Object(cur) === cur && parts[i] in cur)) { has = false; break; }
      cur = cur[parts[i]];
    }
    actual = has ? cur : undefined;
  } else {
    has = obj !== null && obj !== undefined && name in Object(obj);
    actual = has ? obj[name] : undefined;
  }
  if (arguments.length > 1) {
    var same = has && (this._flags.deep ? __deepEqual(actual, value) : actual === value);
    return this.assert(same, "expected #{this} to have " + label + __inspect(name) + " of #{exp}, but got #{act}", "expected #{this} to not have " + label + __inspect(name) + " of #{act}", value, actual);
  }
  this.assert(has, "expected #{this} to have " + label + __inspect(name), "expected #{this} to not have " + label + __inspect(name));
  var next = new Assertion(actual, this._msg);
  return next;
});
__method(["lengthOf", "length"], function (n) {
  var len = this._obj === null || this._obj === undefined ? undefined : this._obj.length;
  return this.assert(len === n, "expected #{this} to have a length of #{exp} but got #{act}", "expected #{this} to not have a length of #{act}", n, len);
});
__method(["keys", "key"], function () {
  var keys = Array.prototype.slice.call(arguments);
  if (keys.length === 1 && Array.isArray(keys[0])) keys = keys[0];
  else if (keys.length === 1 && keys[0] !== null && typeof keys[0] === "object") keys = Object.keys(keys[0]);
  var actual = Object.keys(this._obj || {});
  var ok = this._flags.any
    ? keys.some(function (k) { return actual.indexOf(k) !== -1; })
    : keys.every(function (k) { return actual.indexOf(k) !== -1; }) && (this._flags.contains || keys.length === actual.length);
  var shown = keys.map(function (k) { return __inspect(k); });
  var list = shown.length > 1 ? shown.slice(0, -1).join(", ") + (this._flags.any ? ", or " : ", and ") + shown[shown.length - 1] : shown[0];
  var verb = this._flags.contains ? "contain" : "have";
  var noun = keys.length > 1 ? "keys " : "key ";
  return this.assert(ok, "expected #{this} to " + verb + " " + noun + list, "expected #{this} to not " + verb + " " + noun + list);
});
__method(["members"], function (expected) {
  var obj = this._obj || [], deep = this._flags.deep;
  var has = function (list, v) { return list.some(function (x) { return deep ? __deepEqual(x, v) : x === v; }); };
  if (this._flags.contains) {
    return this.assert(expected.every(function (v) { return has(obj, v); }), "expected #{this} to be a superset of #{exp}", "expected #{this} to not be a superset of #{exp}", expected);
  }
  var same = obj.length === expected.length && expected.every(function (v) { return has(obj, v); }) && obj.every(function (v) { return has(expected, v); });
  return this.assert(same, "expected #{this} to have the same members as #{exp}", "expected #{this} to not have the same members as #{exp}", expected);
});
__method(["satisfy", "satisfies"], function (fn) {
  return this.assert(fn(this._obj), "expected #{this} to satisfy " + __inspect(fn), "expected #{this} to not satisfy " + __inspect(fn));
});
__method(["throw", "throws", "Throw"], function () {
  var threw = false;
  try { this._obj(); } catch (e) { threw = true; }
  return this.assert(threw, "expected #{this} to throw an error", "expected #{this} to not throw an error but it threw");
});

function __flagProperty(name, test, positive, negative) {
  __word(name, function () { return this.assert(test.call(this, this._obj), positive, negative); });
}
__flagProperty("true", function (v) { return v === true; }, "expected #{this} to be true", "expected #{this} to be false");
__flagProperty("false", function (v) { return v === false; }, "expected #{this} to be false", "expected #{this} to be true");
__flagProperty("null", function (v) { return v === null; }, "expected #{this} to be null", "expected #{this} not to be null");
__flagProperty("undefined", function (v) { return v === undefined; }, "expected #{this} to be undefined", "expected #{this} not to be undefined");
__flagProperty("NaN", function (v) { return v !== v; }, "expected #{this} to be NaN", "expected #{this} not to be NaN");
__flagProperty("exist", function (v) { return v !== null && v !== undefined; }, "expected #{this} to exist", "expected #{this} to not exist");
__flagProperty("exists", function (v) { return v !== null && v !== undefined; }, "expected #{this} to exist", "expected #{this} to not exist");
__flagProperty("empty", function (v) {
  if (typeof v === "string" || Array.isArray(v)) return v.length === 0;
  if (v !== null && typeof v === "object") return Object.keys(v).length === 0;
  throw new AssertionError(".empty was passed non-string primitive " + __inspect(v));
}, "expected #{this} to be empty", "expected #{this} not to be empty");

// ---- response assertions (pm.response.to.*), with chai-postman's wording ----
// They share names with Chai's `ok` and `json`, which apply when the object is not a response.
function __jsonError(response) {
  try { response.json(); return undefined; } catch (e) {
    return e.name === "JSONError" && e.message ? String(e.message).split("\n")[0] : e.name + ": " + e.message;
  }
}
function __statusClass(low, high, label) {
  return function () {
    var code = this._obj.code;
    return this.assert(code >= low && code <= high, "expected response code to be " + label + " but found #{act}", "expected response code to not be " + label, undefined, code);
  };
}
function __statusReason(code, reason) {
  return function () {
    var actualReason = String(this._obj.status).toUpperCase();
    this.assert(actualReason === reason.toUpperCase(), "expected response to have status reason #{exp} but got #{act}", "expected response to not have status reason #{act}", reason.toUpperCase(), actualReason);
    return this.assert(this._obj.code === code, "expected response to have status code #{exp} but got #{act}", "expected response to not have status code #{act}", code, this._obj.code);
  };
}
var __responseFlags = {
  ok: __statusReason(200, "OK"),
  accepted: __statusReason(202, "Accepted"),
  withoutContent: __statusReason(204, "No Content"),
  badRequest: __statusReason(400, "Bad Request"),
  unauthorised: __statusReason(401, "Unauthorised"),
  unauthorized: __statusReason(401, "Unauthorized"),
  forbidden: __statusReason(403, "Forbidden"),
  notFound: __statusReason(404, "Not Found"),
  notAcceptable: __statusReason(406, "Acceptable"),
  rateLimited: __statusReason(429, "Too Many Requests"),
  info: __statusClass(100, 199, "1XX"),
  success: __statusClass(200, 299, "2XX"),
  redirection: __statusClass(300, 399, "3XX"),
  clientError: __statusClass(400, 499, "4XX"),
  serverError: __statusClass(500, 599, "5XX"),
  error: __statusClass(400, 599, "4XX or 5XX"),
  json: function () {
    var error = __jsonError(this._obj);
    return this.assert(error === undefined, "expected response body to be a valid json but got error " + error, "expected response body not to be a valid json");
  },
  withBody: function () {
    var text = this._obj.text();
    return this.assert(text.length > 0, "expected response to have content in body", "expected response to not have content in body");
  },
};
Object.keys(__responseFlags).forEach(function (name) {
  var plain = Object.getOwnPropertyDescriptor(Assertion.prototype, name);
  __word(name, function () {
    if (__isResponse(this._obj)) return __responseFlags[name].call(this);
    if (name === "ok") return this.assert(!!this._obj, "expected #{this} to be truthy", "expected #{this} to be falsy");
    if (plain && plain.get) return plain.get.call(this);
    return this;
  });
});
// chai-postman's type words: `pm.request.to.be.postmanRequest`.
[["postmanRequest", "a postman request", false, true], ["postmanResponse", "a postman response", true, false],
 ["postmanRequestOrResponse", "a postman request or response", true, true]].forEach(function (word) {
  __word(word[0], function () {
    var obj = this._obj, is = obj !== null && typeof obj === "object" &&
      ((word[2] && obj.__pmResponse === true) || (word[3] && obj.__pmRequest === true));
    return this.assert(is, "expected #{this} to be " + word[1], "expected #{this} to not be " + word[1]);
  });
});
Assertion.prototype.statusCode = function (code) {
  return this.assert(this._obj.code === Number(code), "expected response to have status code #{exp} but got #{act}", "expected response to not have status code #{act}", Number(code), this._obj.code);
};
Assertion.prototype.code = Assertion.prototype.statusCode;
Assertion.prototype.statusReason = function (reason) {
  return this.assert(this._obj.status === String(reason), "expected response to have status reason #{exp} but got #{act}", "expected response to not have status reason #{act}", String(reason), this._obj.status);
};
Assertion.prototype.status = function (codeOrReason) {
  return typeof codeOrReason === "number" ? this.statusCode(codeOrReason) : this.statusReason(codeOrReason);
};
Assertion.prototype.statusCodeClass = function (klass) {
  return __statusClass(klass * 100, klass * 100 + 99, klass + "XX").call(this);
};
Assertion.prototype.header = function (key, value) {
  var r = this._obj, what = r.__pmResponse ? "response" : "request", has = r.headers.has(key);
  this.assert(has, "expected " + what + " to have header with key '" + key + "'", "expected " + what + " to not have header with key '" + key + "'");
  if (arguments.length < 2) return this;
  var actual = r.headers.get(key);
  return this.assert(actual === value, "expected '" + key + "' " + what + " header to be #{exp} but got #{act}", "expected '" + key + "' " + what + " header to not be #{act}", value, actual);
};
Assertion.prototype.body = function (expected) {
  var r = this._obj, text = r.text();
  if (arguments.length === 0) return __responseFlags.withBody.call(this);
  if (expected !== null && typeof expected === "object" && !(expected instanceof RegExp)) {
    var parsed;
    try { parsed = r.json(); } catch (e) { parsed = undefined; }
    return this.assert(__deepEqual(parsed, expected), "expected response body json to equal #{exp} but got #{act}", "expected response body json to not equal #{exp} but got #{act}", expected, parsed);
  }
  if (expected instanceof RegExp) {
    return this.assert(expected.exec(text) !== null, "expected response body text to match #{exp} but got #{act}", "expected response body text #{act} to not match #{exp}", expected, text);
  }
  return this.assert(text === expected, "expected response body to equal #{exp} but got #{act}", "expected response body to not equal #{exp}", expected, text);
};
function __pathGet(obj, path) {
  var parts = String(path).replace(/\[(\w+)\]/g, ".$1").split("."), cur = obj;
  for (var i = 0; i < parts.length; i++) {
    if (cur === null || cur === undefined || Object(cur) !== cur || !(parts[i] in cur)) return { has: false };
    cur = cur[parts[i]];
  }
  return { has: true, value: cur };
}
Assertion.prototype.jsonBody = function (path, value) {
  var error = __jsonError(this._obj);
  if (arguments.length === 0) {
    return this.assert(error === undefined, "expected response body to be a valid json but got error " + error, "expected response body not to be a valid json");
  }
  if (typeof path !== "string") return this;
  var body = error === undefined ? this._obj.json() : undefined, found = __pathGet(body, path);
  this.assert(found.has, "expected #{act} in response to contain property #{exp}", "expected #{act} in response to not contain property #{exp}", path, body);
  if (arguments.length < 2) return this;
  return this.assert(__deepEqual(found.value, value), "expected response body json at \"" + path + "\" to contain #{exp} but got #{act}", "expected response body json at \"" + path + "\" to not contain #{exp} but got #{act}", value, found.value);
};
// Checked by the host after the script, with the project's JSON-schema validator; a failure is
// then charged to the test that made the assertion.
var __runAjv;
// As chai-postman: Ajv (Postman's bundled one, loaded by the host when a script names
// jsonSchema) with all errors, its errorsText() in the message.
Assertion.prototype.jsonSchema = function (schema, options) {
  new Assertion(schema).to.be.an("object");
  var obj = this._obj;
  var data = __isResponse(obj) || (obj && obj.__pmRequest && typeof obj.json === "function") ? obj.json() : obj;
  // chai-postman makes an Ajv per assertion, compiling the schema each time (10 ms); one Ajv
  // for the run keeps each compiled schema (keyed by its text), except where the schema's own
  // id could clash with another's.
  var reuse = options === undefined && !(schema && (schema.$id || schema.id));
  if (reuse && !__runAjv) __runAjv = new __bundled.ajv({ allErrors: true, logger: false });
  var ajv = reuse ? __runAjv : new __bundled.ajv(Object.assign({ allErrors: true, logger: false }, options));
  var valid = ajv.validate(schema, data);
  return this.assert(valid && !ajv.errors, "expected data to satisfy schema but found following errors: \n" + ajv.errorsText(), "expected data to not satisfy schema", true, valid);
};

function expect(value, message) { return new Assertion(value, message); }
expect.fail = function (message) { throw new AssertionError(message || "expect.fail()"); };

// ---- variables: a copy of the run's scopes; the changes go back to the host as a log ----
function __osName(name) { return "DRCHRONO_" + String(name).replace(/[^A-Za-z0-9]/g, "_").toUpperCase(); }
function __has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }
function __environmentGet(name) {
  if (__has(__envOverrides, name)) return __envOverrides[name];
  if (__has(__osEnv, __osName(name))) return __osEnv[__osName(name)];
  return __has(__scopes.environment, name) ? __scopes.environment[name] : undefined;
}
function __environmentAll() {
  var out = {};
  Object.keys(__scopes.environment).forEach(function (k) { out[k] = __environmentGet(k); });
  Object.keys(__envOverrides).forEach(function (k) { out[k] = __envOverrides[k]; });
  return out;
}
function __Scope(name) { this._scope = name; }
__Scope.prototype.get = function (key) {
  key = String(key);
  if (this._scope === "environment") return __environmentGet(key);
  if (this._scope !== "variables") return __has(__scopes[this._scope], key) ? __scopes[this._scope][key] : undefined;
  if (__has(__scopes.local, key)) return __scopes.local[key];
  if (__has(__scopes.data, key)) return __scopes.data[key];
  var fromEnvironment = __environmentGet(key);
  if (fromEnvironment !== undefined) return fromEnvironment;
  if (__has(__scopes.collection, key)) return __scopes.collection[key];
  return __has(__scopes.globals, key) ? __scopes.globals[key] : undefined;
};
__Scope.prototype.has = function (key) { return this.get(key) !== undefined; };
__Scope.prototype._target = function () { return this._scope === "variables" ? "local" : this._scope; };
__Scope.prototype.set = function (key, value) {
  // Run scopes hold text (they fill {{placeholders}}): objects are stored as JSON.
  var text = value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  var scope = this._target();
  __scopes[scope][String(key)] = text;
  if (scope === "environment") delete __envOverrides[String(key)];
  __state.changes.push({ scope: scope, name: String(key), value: text });
};
__Scope.prototype.unset = function (key) {
  var scope = this._target();
  delete __scopes[scope][String(key)];
  if (scope === "environment") delete __envOverrides[String(key)];
  __state.changes.push({ scope: scope, name: String(key), value: null });
};
__Scope.prototype.clear = function () {
  var scope = this._target();
  __scopes[scope] = {};
  if (scope === "environment") __envOverrides = {};
  __state.changes.push({ scope: scope, name: "*", value: null });
};
__Scope.prototype.toObject = function () {
  if (this._scope === "environment") return __environmentAll();
  if (this._scope !== "variables") return Object.assign({}, __scopes[this._scope]);
  return Object.assign({}, __scopes.globals, __scopes.collection, __environmentAll(), __scopes.data, __scopes.local);
};
__Scope.prototype.toJSON = __Scope.prototype.toObject;
__Scope.prototype.replaceIn = function (text) {
  if (typeof text !== "string") return text;
  var scope = this;
  return text.replace(/\{\{\s*([^{}]+?)\s*\}\}/g, function (whole, name) {
    var value = scope.get(name);
    return value === undefined ? whole : String(value);
  });
};

// ---- headers and other Postman property lists ----
function __List(items) { this._items = items || []; }
__List.prototype._find = function (key) {
  var low = String(key).toLowerCase();
  for (var i = this._items.length - 1; i >= 0; i--) {
    if (String(this._items[i].key).toLowerCase() === low && !this._items[i].disabled) return this._items[i];
  }
  return undefined;
};
__List.prototype.get = function (key) { var f = this._find(key); return f ? f.value : undefined; };
__List.prototype.one = function (key) { return this._find(key); };
__List.prototype.has = function (key, value) {
  var f = this._find(key);
  return f !== undefined && (arguments.length < 2 || f.value === value);
};
__List.prototype.all = function () { return this._items.slice(); };
__List.prototype.count = function () { return this._items.length; };
__List.prototype.each = function (fn) { this._items.forEach(fn); };
__List.prototype.map = function (fn) { return this._items.map(fn); };
__List.prototype.filter = function (fn) { return this._items.filter(fn); };
__List.prototype.toObject = function () {
  var out = {};
  this._items.forEach(function (i) { if (!i.disabled) out[i.key] = i.value; });
  return out;
};
__List.prototype.toJSON = function () { return this._items.map(function (i) { return { key: i.key, value: i.value }; }); };
__List.prototype._item = function (key, value) {
  return typeof key === "object" && key !== null ? { key: String(key.key), value: String(key.value === undefined ? "" : key.value) } : { key: String(key), value: String(value === undefined ? "" : value) };
};
__List.prototype.add = function (key, value) { this._items.push(this._item(key, value)); };
__List.prototype.append = __List.prototype.add;
__List.prototype.upsert = function (key, value) {
  var item = this._item(key, value);
  var found = this._find(item.key);
  if (found) found.value = item.value; else this._items.push(item);
};
__List.prototype.remove = function (key) {
  var low = typeof key === "function" ? null : String(key).toLowerCase();
  this._items = this._items.filter(function (i) { return low === null ? !key(i) : String(i.key).toLowerCase() !== low; });
};
__List.prototype.clear = function () { this._items = []; };

// ---- the request (mutable in pre-request scripts) ----
function __Url(text) { this.update(text); }
__Url.prototype.update = function (text) {
  text = String(text);
  var q = text.indexOf("?");
  this._base = q === -1 ? text : text.slice(0, q);
  var pairs = q === -1 ? [] : text.slice(q + 1).split("&").filter(function (p) { return p !== ""; });
  this.query = new __List(pairs.map(function (p) {
    var eq = p.indexOf("=");
    return eq === -1 ? { key: p, value: "" } : { key: p.slice(0, eq), value: p.slice(eq + 1) };
  }));
};
__Url.prototype.toString = function () {
  var q = this.query._items.filter(function (i) { return !i.disabled; })
    .map(function (i) { return i.value === "" && i.key !== "" ? i.key + "=" : i.key + "=" + i.value; });
  return this._base + (q.length ? "?" + q.join("&") : "");
};
__Url.prototype.getHost = function () { return this._base.replace(/^[a-z]+:\/\//i, "").split("/")[0].split(":")[0]; };
__Url.prototype.getPath = function () {
  var rest = this._base.replace(/^[a-z]+:\/\//i, "");
  var slash = rest.indexOf("/");
  return slash === -1 ? "/" : rest.slice(slash);
};
__Url.prototype.toJSON = function () { return this.toString(); };

function __makeRequest(data) {
  var request = {
    method: data.method,
    headers: new __List(data.headers),
    body: data.body,
    auth: data.auth,
    name: data.name,
    id: data.id,
  };
  var url = new __Url(data.url);
  Object.defineProperty(request, "url", {
    enumerable: true,
    get: function () { return url; },
    set: function (value) { url = value instanceof __Url ? value : new __Url(String(value)); },
  });
  request.addHeader = function (h) { request.headers.add(h); };
  request.removeHeader = function (k) { request.headers.remove(k); };
  request.upsertHeader = function (h) { request.headers.upsert(h); };
  request.toJSON = function () {
    return { method: request.method, url: url.toString(), headers: request.headers._items, body: request.body, auth: request.auth };
  };
  // chai-postman asserts on requests too: pm.request.to.have.header(...)
  Object.defineProperty(request, "__pmRequest", { value: true });
  Object.defineProperty(request, "to", { get: function () { return new Assertion(request); } });
  Object.defineProperty(request, "be", { get: function () { return new Assertion(request); } });
  return request;
}

// ---- the response ----
function __makeResponse(data) {
  var text = data.body;
  var response = {
    __pmResponse: true,
    code: data.code,
    status: data.reason,
    headers: new __List(data.headers),
    responseTime: data.responseTime,
    responseSize: data.responseSize,
    // Postman's is a Buffer of the body; scripts read it with toString()
    stream: { toString: function () { return text; }, length: text ? text.length : 0 },
    text: function () { return text; },
    json: function () {
      try { return JSON.parse(text); } catch (e) {
        var error = new SyntaxError(e.message);
        error.name = "JSONError";
        throw error;
      }
    },
    reason: function () { return data.reason; },
  };
  Object.defineProperty(response, "to", { get: function () { return new Assertion(response); } });
  Object.defineProperty(response, "be", { get: function () { return new Assertion(response); } });
  return response;
}

// ---- console: captured for the report ----
function __format(args) {
  return Array.prototype.map.call(args, function (a) { return typeof a === "string" ? a : __inspect(a); }).join(" ");
}
var console = {};
["log", "info", "warn", "error", "debug"].forEach(function (level) {
  console[level] = function () { __state.console.push({ level: level, text: __format(arguments) }); };
});

// ---- base64 ----
var __B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function btoa(input) {
  input = String(input);
  var out = "";
  for (var i = 0; i < input.length; i += 3) {
    var a = input.charCodeAt(i), b = input.charCodeAt(i + 1), c = input.charCodeAt(i + 2);
    if (a > 255 || b > 255 || c > 255) throw new Error("btoa: the string contains characters outside Latin1");
    var n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += __B64[(n >> 18) & 63] + __B64[(n >> 12) & 63] + (i + 1 < input.length ? __B64[(n >> 6) & 63] : "=") + (i + 2 < input.length ? __B64[n & 63] : "=");
  }
  return out;
}
function atob(input) {
  input = String(input).replace(/[\s=]+/g, "");
  var out = "", bits = 0, value = 0;
  for (var i = 0; i < input.length; i++) {
    var idx = __B64.indexOf(input[i]);
    if (idx === -1) throw new Error("atob: the string is not valid base64");
    value = (value << 6) | idx; bits += 6;
    if (bits >= 8) { bits -= 8; out += String.fromCharCode((value >> bits) & 255); }
  }
  return out;
}

// ---- require: our own basics, else the user's node_modules, read by the host beforehand ----
function __uuid4() {
  var hex = "0123456789abcdef", out = "";
  for (var i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) { out += "-"; continue; }
    var n = Math.floor(Math.random() * 16);
    out += i === 14 ? "4" : i === 19 ? hex[(n & 3) | 8] : hex[n];
  }
  return out;
}
var __builtins = { uuid: { v4: __uuid4 }, atob: atob, btoa: btoa };
var __libraries = { modules: {}, resolved: {}, errors: {} }, __loaded = {};
// Postman's bundled libraries, evaluated by the host once per context when a script names one.
var __bundled = {};
function __defineBundled(name, factory) {
  var module = { exports: {} };
  factory.call(module.exports, module, module.exports, function (dependency) {
    throw new Error("Cannot find module '" + dependency + "'");
  });
  __bundled[name] = module.exports;
  if (name === "lodash") globalThis._ = module.exports;
  if (name === "crypto-js") globalThis.CryptoJS = module.exports;
  if (name === "tv4") globalThis.tv4 = module.exports;
}
function __requireFrom(dir) {
  return function require(name) {
    name = String(name);
    if (__has(__builtins, name)) return __builtins[name];
    var key = dir + "|" + name;
    if (!__has(__libraries.resolved, key) && __has(__bundled, name)) return __bundled[name];
    if (__has(__libraries.errors, key)) throw new Error(__libraries.errors[key]);
    if (!__has(__libraries.resolved, key)) {
      throw new Error("require('" + name + "'): only libraries named by a literal string can be loaded, and this one was not found in advance");
    }
    var found = __libraries.resolved[key];
    if (__has(__loaded, found.id)) return __loaded[found.id].exports;
    var module = { exports: {}, id: found.id };
    __loaded[found.id] = module;
    var source = __libraries.modules[found.id];
    if (/\.json$/.test(found.id)) { module.exports = JSON.parse(source); return module.exports; }
    var factory = new Function("module", "exports", "require", source);
    factory.call(module.exports, module, module.exports, __requireFrom(found.dir));
    return module.exports;
  };
}
var require = __requireFrom("");

// ---- tests ----
function __record(id, name, passed, skipped, error) {
  __state.tests.push({
    id: id, name: String(name), passed: passed, skipped: skipped,
    errorName: error ? String(error.name || "Error") : "",
    message: error ? String(error.message === undefined ? error : error.message) : "",
  });
}
function __test(name, fn) {
  var id = ++__state.testCount;
  if (typeof fn !== "function") { __record(id, name, false, true, null); return; }
  if (fn.length > 0) {  // an asynchronous test: it passes when it calls done()
    var settled = false;
    var done = function (err) {
      if (settled) return;
      settled = true;
      __record(id, name, !err, false, err || null);
    };
    __state.pending.push(function () { if (!settled) { settled = true; __record(id, name, false, false, new Error("the test did not call done()")); } });
    try { fn(done); } catch (e) { done(e); }
    return;
  }
  try {
    var result = fn();
    if (result && typeof result.then === "function") {
      var settledAsync = false;
      result.then(function () { settledAsync = true; __record(id, name, true, false, null); },
        function (e) { settledAsync = true; __record(id, name, false, false, e); });
      __state.pending.push(function () { if (!settledAsync) __record(id, name, false, false, new Error("the test's promise never settled")); });
      return;
    }
    __record(id, name, true, false, null);
  } catch (e) {
    __record(id, name, false, false, e);
  }
}
__test.skip = function (name) { __record(++__state.testCount, name, false, true, null); };

// ---- pm.sendRequest: the host sends; the callback runs after the script body, as in Postman ----
function __sendRequest(spec, callback) {
  var request = typeof spec === "string" ? { url: spec } : spec;
  var headers = request.header || request.headers || [];
  if (headers instanceof __List) headers = headers._items;
  else if (!Array.isArray(headers)) headers = Object.keys(headers).map(function (k) { return { key: k, value: String(headers[k]) }; });
  var settle;
  var promise = new Promise(function (resolve, reject) { settle = { resolve: resolve, reject: reject }; });
  __state.sends.push({
    settle: settle,
    request: {
      method: String(request.method || "GET").toUpperCase(),
      url: String(request.url),
      headers: headers.map(function (h) { return { key: String(h.key), value: String(h.value) }; }),
      body: request.body === undefined ? null : request.body,
    },
  });
  if (typeof callback !== "function") return promise;
  promise.then(function (r) { __guard(function () { callback(null, r); }); },
    function (e) { __guard(function () { callback(e, null); }); });
  return undefined;
}
// The host takes the queued requests, sends them, and hands each answer back here.
function __takeSends() {
  var taken = __state.sends;
  __state.sends = [];
  __state.inFlight = taken;
  return JSON.stringify(taken.map(function (s) { return s.request; }));
}
function __deliver(index, answer) {
  var send = __state.inFlight[index];
  if (answer.error) send.settle.reject(new Error(answer.error));
  else send.settle.resolve(__makeResponse(answer.response));
}
function __guard(fn) {
  try { fn(); } catch (e) { __state.asyncErrors.push({ name: String(e && e.name || "Error"), message: String(e && e.message !== undefined ? e.message : e), stack: String(e && e.stack || "") }); }
}

function __cookies(list) {
  var jar = new __List(list);
  return { get: jar.get.bind(jar), has: jar.has.bind(jar), toObject: jar.toObject.bind(jar), all: jar.all.bind(jar) };
}

// The legacy globals a test script sees: a later pre-request script must not see them.
var __legacyResponseNames = ["responseCode", "responseBody", "responseHeaders", "responseTime", "responseCookies"];

// Called by the host with this execution's data, before the user's script.
function __setup(data) {
  __state = __freshState();
  __loaded = {};  // libraries are resolved per script: its own require() calls
  __scopes = data.scopes;
  __osEnv = data.osEnvironment;
  __envOverrides = data.environmentOverrides;
  __libraries = data.libraries;
  var isTest = data.info.eventName === "test";
  var request = __makeRequest(data.request);
  var response = data.response ? __makeResponse(data.response) : undefined;
  var setNext = function (name) { __state.next = name === null || name === undefined ? null : String(name); };
  var pm = {
    info: data.info,
    test: __test,
    expect: expect,
    request: request,
    variables: new __Scope("variables"),
    environment: new __Scope("environment"),
    collectionVariables: new __Scope("collection"),
    globals: new __Scope("globals"),
    iterationData: new __Scope("data"),
    cookies: __cookies(data.cookies),
    sendRequest: __sendRequest,
    setNextRequest: setNext,
    execution: {
      setNextRequest: setNext,
      skipRequest: function () { __state.skip = true; },
      location: [data.info.requestName],
    },
  };
  pm.environment.name = data.environmentName;
  if (response) pm.response = response;
  globalThis.pm = pm;

  // As postman-sandbox's legacy interface: a value is stored as text unless it is falsy (so 0
  // stays the number 0), and the legacy `environment`/`globals` objects follow every change.
  function legacyText(value) {
    return (value === false || value) && typeof (value && value.toString) === "function" ? value.toString() : value;
  }
  function legacySetter(scope, name) {
    return function (k, v) { v = legacyText(v); globalThis[name][k] = v; scope.set(k, v); };
  }
  function legacyClearer(scope, name) {
    return function () { Object.keys(globalThis[name]).forEach(function (k) { delete globalThis[name][k]; }); scope.clear(); };
  }
  var postman = {
    setNextRequest: setNext,
    setEnvironmentVariable: legacySetter(pm.environment, "environment"),
    getEnvironmentVariable: function (k) { return pm.environment.get(k); },
    clearEnvironmentVariable: function (k) { if (k) delete globalThis.environment[k]; pm.environment.unset(k); },
    clearEnvironmentVariables: legacyClearer(pm.environment, "environment"),
    setGlobalVariable: legacySetter(pm.globals, "globals"),
    getGlobalVariable: function (k) { return pm.globals.get(k); },
    clearGlobalVariable: function (k) { if (k) delete globalThis.globals[k]; pm.globals.unset(k); },
    clearGlobalVariables: legacyClearer(pm.globals, "globals"),
    getResponseHeader: function (k) { return response ? response.headers.get(k) : undefined; },
    // a cookie object (name, value), as postman-sandbox's `cookies.one(name)`, not pm.cookies's value
    getResponseCookie: function (k) {
      var found = data.cookies.filter(function (c) { return c.key === String(k); })[0];
      return found ? { name: found.key, key: found.key, value: found.value } : undefined;
    },
  };
  globalThis.postman = postman;
  globalThis.tests = {};
  globalThis.environment = pm.environment.toObject();
  globalThis.globals = pm.globals.toObject();
  globalThis.data = pm.iterationData.toObject();
  globalThis.iteration = data.info.iteration;
  globalThis.request = {
    id: data.info.requestId, name: data.info.requestName, description: data.requestDescription || undefined,
    url: request.url.toString(), method: request.method, headers: request.headers.toObject(), data: data.request.body && data.request.body.raw || "",
  };
  __legacyResponseNames.forEach(function (name) { delete globalThis[name]; });
  if (response && isTest) {
    globalThis.responseCode = { code: response.code, name: response.status, detail: response.status };
    globalThis.responseBody = response.text();
    globalThis.responseHeaders = response.headers.toObject();
    globalThis.responseTime = response.responseTime;
    globalThis.responseCookies = data.cookies;
  }
}

// Called by the host after the script and its pending jobs: everything it needs, as JSON.
function __finish() {
  __state.pending.forEach(function (f) { f(); });
  if (globalThis.tests && typeof globalThis.tests === "object") {
    Object.keys(globalThis.tests).forEach(function (name) {
      var ok = !!globalThis.tests[name];
      __record(++__state.testCount, name, ok, false, ok ? null : { name: "AssertionError", message: "expected " + __inspect(globalThis.tests[name]) + " to be truthy" });
    });
  }
  var req = globalThis.pm.request;
  return JSON.stringify({
    tests: __state.tests,
    console: __state.console,
    next: __state.next === undefined ? { set: false } : { set: true, name: __state.next },
    skip: __state.skip,
    asyncErrors: __state.asyncErrors,
    changes: __state.changes,
    request: { method: String(req.method), url: req.url.toString(), headers: req.headers._items, body: req.body === undefined ? null : req.body, auth: req.auth === undefined ? null : req.auth },
  });
}
