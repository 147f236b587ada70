// ===== entry 0: kernel dispatch_0_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 2>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<storage, read_write> global_7: type_7;
@group(0) @binding(5) 
var<storage, read_write> global_8: type_7;
@group(0) @binding(6) 
var<uniform> global_9: type_12;
var<workgroup> global_10: array<f32, 272>;
var<workgroup> global_11: array<f32, 512>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: f32;
    var local_3: i32;
    var local_4: f32;
    var local_5: f32;
    var local_6: f32;

    let _e48 = global_9.member[0i][0i];
    let _e49 = bitcast<i32>(_e48);
    let _e53 = global_9.member[0i][1i];
    let _e58 = global_9.member[0i][2i];
    let _e59 = bitcast<i32>(_e58);
    let _e63 = global_9.member[0i][3i];
    let _e64 = bitcast<i32>(_e63);
    let _e68 = global_9.member[1i][0i];
    let _e69 = bitcast<i32>(_e68);
    let _e73 = global_9.member[1i][1i];
    let _e74 = bitcast<i32>(_e73);
    let _e75 = global;
    let _e76 = global_2;
    let _e86 = bitcast<i32>(((((_e75.z * _e76.y) + _e75.y) * _e76.x) + _e75.x));
    let _e88 = (_e86 / 128i);
    let _e92 = global_1;
    let _e94 = bitcast<i32>(_e92.x);
    let _e95 = (_e94 / 16i);
    let _e96 = (_e94 % 16i);
    let _e97 = (((_e88 % 1i) * 16i) + _e95);
    let _e98 = (((_e86 % 128i) * 32i) + _e96);
    let _e99 = (_e88 < 1i);
    local_6 = 0f;
    local_5 = 0f;
    local_3 = 0i;
    loop {
        let _e100 = local_3;
        if (_e100 < 27i) {
            let _e102 = local_3;
            let _e103 = (_e102 + _e96);
            let _e104 = (_e102 + _e95);
            let _e105 = (_e98 + 16i);
            local_4 = 0f;
            if (((_e97 < 16i) && (_e103 < 27i)) && _e99) {
                let _e114 = (_e103 % 9i);
                let _e126 = global_4.member[((((bitcast<i32>(_e53) + ((((_e88 % 1i) * 16i) + _e97) * 27i)) + ((_e103 / 9i) * 9i)) + ((_e114 / 3i) * 3i)) + (_e114 % 3i))];
                local_4 = _e126;
            }
            let _e127 = local_4;
            global_10[((_e96 * 17i) + _e95)] = _e127;
            local_4 = 0f;
            if (((_e104 < 27i) && (_e98 < 4096i)) && _e99) {
                let _e137 = (_e104 % 9i);
                let _e143 = (((_e98 / 64i) + (_e137 / 3i)) + -1i);
                let _e145 = (((_e98 % 64i) + (_e137 % 3i)) + -1i);
                local_2 = 0f;
                if (((_e143 >= 0i) && (_e143 < 64i)) && ((_e145 >= 0i) && (_e145 < 64i))) {
                    let _e162 = global_3.member[(((_e49 + ((((_e88 % 1i) * 3i) + (_e104 / 9i)) * 4096i)) + (_e143 * 64i)) + _e145)];
                    local_2 = _e162;
                }
                let _e163 = local_2;
                local_4 = _e163;
            }
            let _e164 = local_4;
            global_11[((_e95 * 32i) + _e96)] = _e164;
            local_4 = 0f;
            if (((_e104 < 27i) && (_e105 < 4096i)) && _e99) {
                let _e174 = (_e104 % 9i);
                let _e180 = (((_e105 / 64i) + (_e174 / 3i)) + -1i);
                let _e182 = (((_e105 % 64i) + (_e174 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e180 >= 0i) && (_e180 < 64i)) && ((_e182 >= 0i) && (_e182 < 64i))) {
                    let _e199 = global_3.member[(((_e49 + ((((_e88 % 1i) * 3i) + (_e104 / 9i)) * 4096i)) + (_e180 * 64i)) + _e182)];
                    local_1 = _e199;
                }
                let _e200 = local_1;
                local_4 = _e200;
            }
            let _e201 = local_4;
            global_11[(((_e95 * 32i) + _e96) + 16i)] = _e201;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e206 = local;
                if (_e206 < 16i) {
                    let _e208 = local;
                    let _e212 = global_10[((_e208 * 17i) + _e95)];
                    let _e214 = ((_e208 * 32i) + _e96);
                    let _e216 = global_11[_e214];
                    let _e219 = global_11[(_e214 + 16i)];
                    let _e221 = local_6;
                    local_6 = (_e221 + (_e212 * _e216));
                    let _e224 = local_5;
                    local_5 = (_e224 + (_e212 * _e219));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e226 = local;
                    local = (_e226 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e228 = local_3;
            local_3 = (_e228 + 16i);
        }
    }
    if (((_e97 < 16i) && (_e98 < 4096i)) && _e99) {
        let _e234 = local_6;
        let _e237 = (((_e88 % 1i) * 16i) + _e97);
        let _e243 = global_6.member[(_e64 + _e237)];
        let _e248 = global_7.member[(_e69 + _e237)];
        let _e253 = global_8.member[(_e74 + _e237)];
        let _e254 = (((_e234 + _e243) * _e248) + _e253);
        global_5.member[(((_e59 + (_e237 * 4096i)) + ((_e98 / 64i) * 64i)) + (_e98 % 64i))] = select(0f, _e254, ((_e254 > 0f) || ((bitcast<u32>(_e254) & 2147483647u) > 2139095040u)));
    }
    let _e268 = (_e98 + 16i);
    if (((_e97 < 16i) && (_e268 < 4096i)) && _e99) {
        let _e273 = local_5;
        let _e276 = (((_e88 % 1i) * 16i) + _e97);
        let _e282 = global_6.member[(_e64 + _e276)];
        let _e287 = global_7.member[(_e69 + _e276)];
        let _e292 = global_8.member[(_e74 + _e276)];
        let _e293 = (((_e273 + _e282) * _e287) + _e292);
        global_5.member[(((_e59 + (_e276 * 4096i)) + ((_e268 / 64i) * 64i)) + (_e268 % 64i))] = select(0f, _e293, ((_e293 > 0f) || ((bitcast<u32>(_e293) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_0_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 1: kernel dispatch_1_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<uniform> global_5: type_12;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: i32;
    var local_3: f32;

    let _e30 = global_5.member[0i][0i];
    let _e35 = global_5.member[0i][1i];
    let _e37 = global;
    let _e38 = global_2;
    let _e49 = global_1;
    let _e53 = ((bitcast<i32>(((((_e37.z * _e38.y) + _e37.y) * _e38.x) + _e37.x)) * 128i) + bitcast<i32>(_e49.x));
    if (bitcast<u32>(_e53) < bitcast<u32>(16384i)) {
        let _e57 = (_e53 % 32i);
        let _e58 = (_e53 / 32i);
        let _e59 = (_e58 % 32i);
        let _e60 = (_e58 / 32i);
        let _e61 = (_e60 % 16i);
        local_3 = bitcast<f32>(4286578688u);
        local_2 = 0i;
        local_1 = 0i;
        loop {
            let _e67 = local_1;
            if (_e67 < 3i) {
                let _e69 = local_1;
                local = 0i;
                loop {
                    let _e70 = local;
                    if (_e70 < 3i) {
                        let _e72 = local;
                        let _e73 = (((_e59 * 2i) + -1i) + _e69);
                        let _e74 = (((_e57 * 2i) + -1i) + _e72);
                        if (((_e73 >= 0i) && (_e73 < 64i)) && ((_e74 >= 0i) && (_e74 < 64i))) {
                            let _e89 = global_3.member[(((bitcast<i32>(_e30) + (_e61 * 4096i)) + (_e73 * 64i)) + _e74)];
                            let _e90 = local_3;
                            local_3 = max(_e90, _e89);
                            let _e92 = local_2;
                            local_2 = (_e92 + 1i);
                        }
                        continue;
                    } else {
                        break;
                    }
                    continuing {
                        let _e94 = local;
                        local = (_e94 + 1i);
                    }
                }
                continue;
            } else {
                break;
            }
            continuing {
                let _e96 = local_1;
                local_1 = (_e96 + 1i);
            }
        }
        let _e98 = local_3;
        global_4.member[(((bitcast<i32>(_e35) + (_e61 * 1024i)) + (_e59 * 32i)) + _e57)] = _e98;
    }
    return;
}

@compute @workgroup_size(128, 1, 1) 
fn dispatch_1_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 2: kernel dispatch_2_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 2>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<storage, read_write> global_7: type_7;
@group(0) @binding(5) 
var<uniform> global_8: type_12;
var<workgroup> global_9: array<f32, 272>;
var<workgroup> global_10: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e44 = global_8.member[0i][0i];
    let _e49 = global_8.member[0i][1i];
    let _e54 = global_8.member[0i][2i];
    let _e59 = global_8.member[0i][3i];
    let _e64 = global_8.member[1i][0i];
    let _e66 = global;
    let _e67 = global_2;
    let _e77 = bitcast<i32>(((((_e66.z * _e67.y) + _e66.y) * _e67.x) + _e66.x));
    let _e79 = (_e77 / 64i);
    let _e83 = global_1;
    let _e85 = bitcast<i32>(_e83.x);
    let _e86 = (_e85 / 16i);
    let _e87 = (_e85 % 16i);
    let _e88 = (((_e79 % 1i) * 16i) + _e86);
    let _e89 = (((_e77 % 64i) * 16i) + _e87);
    let _e90 = (_e79 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e91 = local_2;
        if (_e91 < 144i) {
            let _e93 = local_2;
            let _e94 = (_e93 + _e87);
            let _e95 = (_e93 + _e86);
            local_3 = 0f;
            if (((_e88 < 16i) && (_e94 < 144i)) && _e90) {
                let _e104 = (_e94 % 9i);
                let _e116 = global_4.member[((((bitcast<i32>(_e49) + ((((_e79 % 1i) * 16i) + _e88) * 144i)) + ((_e94 / 9i) * 9i)) + ((_e104 / 3i) * 3i)) + (_e104 % 3i))];
                local_3 = _e116;
            }
            let _e117 = local_3;
            global_9[((_e87 * 17i) + _e86)] = _e117;
            local_3 = 0f;
            if (((_e95 < 144i) && (_e89 < 1024i)) && _e90) {
                let _e127 = (_e95 % 9i);
                let _e133 = (((_e89 / 32i) + (_e127 / 3i)) + -1i);
                let _e135 = (((_e89 % 32i) + (_e127 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e133 >= 0i) && (_e133 < 32i)) && ((_e135 >= 0i) && (_e135 < 32i))) {
                    let _e152 = global_3.member[(((bitcast<i32>(_e44) + ((((_e79 % 1i) * 16i) + (_e95 / 9i)) * 1024i)) + (_e133 * 32i)) + _e135)];
                    local_1 = _e152;
                }
                let _e153 = local_1;
                local_3 = _e153;
            }
            let _e154 = local_3;
            global_10[((_e86 * 16i) + _e87)] = _e154;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e158 = local;
                if (_e158 < 16i) {
                    let _e160 = local;
                    let _e164 = global_9[((_e160 * 17i) + _e86)];
                    let _e168 = global_10[((_e160 * 16i) + _e87)];
                    let _e170 = local_4;
                    local_4 = (_e170 + (_e164 * _e168));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e172 = local;
                    local = (_e172 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e174 = local_2;
            local_2 = (_e174 + 16i);
        }
    }
    if (((_e88 < 16i) && (_e89 < 1024i)) && _e90) {
        let _e180 = local_4;
        let _e183 = (((_e79 % 1i) * 16i) + _e88);
        let _e189 = global_6.member[(bitcast<i32>(_e59) + _e183)];
        let _e194 = global_7.member[(bitcast<i32>(_e64) + _e183)];
        let _e195 = ((_e180 * _e189) + _e194);
        global_5.member[(((bitcast<i32>(_e54) + (_e183 * 1024i)) + ((_e89 / 32i) * 32i)) + (_e89 % 32i))] = select(0f, _e195, ((_e195 > 0f) || ((bitcast<u32>(_e195) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_2_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 3: kernel dispatch_3_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 2>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<storage, read_write> global_7: type_7;
@group(0) @binding(5) 
var<storage, read_write> global_8: type_7;
@group(0) @binding(6) 
var<uniform> global_9: type_12;
var<workgroup> global_10: array<f32, 272>;
var<workgroup> global_11: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e45 = global_9.member[0i][0i];
    let _e50 = global_9.member[0i][1i];
    let _e55 = global_9.member[0i][2i];
    let _e60 = global_9.member[0i][3i];
    let _e65 = global_9.member[1i][0i];
    let _e70 = global_9.member[1i][1i];
    let _e72 = global;
    let _e73 = global_2;
    let _e83 = bitcast<i32>(((((_e72.z * _e73.y) + _e72.y) * _e73.x) + _e72.x));
    let _e85 = (_e83 / 64i);
    let _e89 = global_1;
    let _e91 = bitcast<i32>(_e89.x);
    let _e92 = (_e91 / 16i);
    let _e93 = (_e91 % 16i);
    let _e94 = (((_e85 % 1i) * 16i) + _e92);
    let _e95 = (((_e83 % 64i) * 16i) + _e93);
    let _e96 = (_e85 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e97 = local_2;
        if (_e97 < 144i) {
            let _e99 = local_2;
            let _e100 = (_e99 + _e93);
            let _e101 = (_e99 + _e92);
            local_3 = 0f;
            if (((_e94 < 16i) && (_e100 < 144i)) && _e96) {
                let _e110 = (_e100 % 9i);
                let _e122 = global_4.member[((((bitcast<i32>(_e50) + ((((_e85 % 1i) * 16i) + _e94) * 144i)) + ((_e100 / 9i) * 9i)) + ((_e110 / 3i) * 3i)) + (_e110 % 3i))];
                local_3 = _e122;
            }
            let _e123 = local_3;
            global_10[((_e93 * 17i) + _e92)] = _e123;
            local_3 = 0f;
            if (((_e101 < 144i) && (_e95 < 1024i)) && _e96) {
                let _e133 = (_e101 % 9i);
                let _e139 = (((_e95 / 32i) + (_e133 / 3i)) + -1i);
                let _e141 = (((_e95 % 32i) + (_e133 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e139 >= 0i) && (_e139 < 32i)) && ((_e141 >= 0i) && (_e141 < 32i))) {
                    let _e158 = global_3.member[(((bitcast<i32>(_e45) + ((((_e85 % 1i) * 16i) + (_e101 / 9i)) * 1024i)) + (_e139 * 32i)) + _e141)];
                    local_1 = _e158;
                }
                let _e159 = local_1;
                local_3 = _e159;
            }
            let _e160 = local_3;
            global_11[((_e92 * 16i) + _e93)] = _e160;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e164 = local;
                if (_e164 < 16i) {
                    let _e166 = local;
                    let _e170 = global_10[((_e166 * 17i) + _e92)];
                    let _e174 = global_11[((_e166 * 16i) + _e93)];
                    let _e176 = local_4;
                    local_4 = (_e176 + (_e170 * _e174));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e178 = local;
                    local = (_e178 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e180 = local_2;
            local_2 = (_e180 + 16i);
        }
    }
    if (((_e94 < 16i) && (_e95 < 1024i)) && _e96) {
        let _e186 = local_4;
        let _e189 = (((_e85 % 1i) * 16i) + _e94);
        let _e190 = (_e95 / 32i);
        let _e191 = (_e95 % 32i);
        let _e195 = global_6.member[(bitcast<i32>(_e60) + _e189)];
        let _e200 = global_7.member[(bitcast<i32>(_e65) + _e189)];
        let _e209 = global_8.member[(((bitcast<i32>(_e70) + (_e189 * 1024i)) + (_e190 * 32i)) + _e191)];
        let _e210 = (((_e186 * _e195) + _e200) + _e209);
        global_5.member[(((bitcast<i32>(_e55) + (_e189 * 1024i)) + (_e190 * 32i)) + _e191)] = select(0f, _e210, ((_e210 > 0f) || ((bitcast<u32>(_e210) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_3_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 4: kernel dispatch_4_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 2>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<storage, read_write> global_7: type_7;
@group(0) @binding(5) 
var<uniform> global_8: type_12;
var<workgroup> global_9: array<f32, 272>;
var<workgroup> global_10: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e45 = global_8.member[0i][0i];
    let _e50 = global_8.member[0i][1i];
    let _e55 = global_8.member[0i][2i];
    let _e60 = global_8.member[0i][3i];
    let _e65 = global_8.member[1i][0i];
    let _e67 = global;
    let _e68 = global_2;
    let _e78 = bitcast<i32>(((((_e67.z * _e68.y) + _e67.y) * _e68.x) + _e67.x));
    let _e80 = (_e78 / 16i);
    let _e82 = (_e80 / 2i);
    let _e85 = global_1;
    let _e87 = bitcast<i32>(_e85.x);
    let _e88 = (_e87 / 16i);
    let _e89 = (_e87 % 16i);
    let _e90 = (((_e80 % 2i) * 16i) + _e88);
    let _e91 = (((_e78 % 16i) * 16i) + _e89);
    let _e92 = (_e82 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e93 = local_2;
        if (_e93 < 144i) {
            let _e95 = local_2;
            let _e96 = (_e95 + _e89);
            let _e97 = (_e95 + _e88);
            local_3 = 0f;
            if (((_e90 < 32i) && (_e96 < 144i)) && _e92) {
                let _e106 = (_e96 % 9i);
                let _e118 = global_4.member[((((bitcast<i32>(_e50) + ((((_e82 % 1i) * 32i) + _e90) * 144i)) + ((_e96 / 9i) * 9i)) + ((_e106 / 3i) * 3i)) + (_e106 % 3i))];
                local_3 = _e118;
            }
            let _e119 = local_3;
            global_9[((_e89 * 17i) + _e88)] = _e119;
            local_3 = 0f;
            if (((_e97 < 144i) && (_e91 < 256i)) && _e92) {
                let _e129 = (_e97 % 9i);
                let _e136 = ((((_e91 / 16i) * 2i) + (_e129 / 3i)) + -1i);
                let _e139 = ((((_e91 % 16i) * 2i) + (_e129 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e136 >= 0i) && (_e136 < 32i)) && ((_e139 >= 0i) && (_e139 < 32i))) {
                    let _e156 = global_3.member[(((bitcast<i32>(_e45) + ((((_e82 % 1i) * 16i) + (_e97 / 9i)) * 1024i)) + (_e136 * 32i)) + _e139)];
                    local_1 = _e156;
                }
                let _e157 = local_1;
                local_3 = _e157;
            }
            let _e158 = local_3;
            global_10[((_e88 * 16i) + _e89)] = _e158;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e162 = local;
                if (_e162 < 16i) {
                    let _e164 = local;
                    let _e168 = global_9[((_e164 * 17i) + _e88)];
                    let _e172 = global_10[((_e164 * 16i) + _e89)];
                    let _e174 = local_4;
                    local_4 = (_e174 + (_e168 * _e172));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e176 = local;
                    local = (_e176 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e178 = local_2;
            local_2 = (_e178 + 16i);
        }
    }
    if (((_e90 < 32i) && (_e91 < 256i)) && _e92) {
        let _e184 = local_4;
        let _e187 = (((_e82 % 1i) * 32i) + _e90);
        let _e193 = global_6.member[(bitcast<i32>(_e60) + _e187)];
        let _e198 = global_7.member[(bitcast<i32>(_e65) + _e187)];
        let _e199 = ((_e184 * _e193) + _e198);
        global_5.member[(((bitcast<i32>(_e55) + (_e187 * 256i)) + ((_e91 / 16i) * 16i)) + (_e91 % 16i))] = select(0f, _e199, ((_e199 > 0f) || ((bitcast<u32>(_e199) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_4_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 5: kernel dispatch_5_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<uniform> global_6: type_12;
var<workgroup> global_7: array<f32, 272>;
var<workgroup> global_8: array<f32, 1024>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: f32;
    var local_3: f32;
    var local_4: f32;
    var local_5: i32;
    var local_6: f32;
    var local_7: f32;
    var local_8: f32;
    var local_9: f32;
    var local_10: f32;

    let _e46 = global_6.member[0i][0i];
    let _e47 = bitcast<i32>(_e46);
    let _e51 = global_6.member[0i][1i];
    let _e56 = global_6.member[0i][2i];
    let _e57 = bitcast<i32>(_e56);
    let _e58 = global;
    let _e59 = global_2;
    let _e69 = bitcast<i32>(((((_e58.z * _e59.y) + _e58.y) * _e59.x) + _e58.x));
    let _e71 = (_e69 / 4i);
    let _e75 = global_1;
    let _e77 = bitcast<i32>(_e75.x);
    let _e78 = (_e77 / 16i);
    let _e79 = (_e77 % 16i);
    let _e80 = (((_e71 % 1i) * 16i) + _e78);
    let _e81 = (((_e69 % 4i) * 64i) + _e79);
    let _e82 = (_e71 < 32i);
    local_10 = 0f;
    local_9 = 0f;
    local_8 = 0f;
    local_7 = 0f;
    local_5 = 0i;
    loop {
        let _e83 = local_5;
        if (_e83 < 9i) {
            let _e85 = local_5;
            let _e86 = (_e85 + _e79);
            let _e87 = (_e85 + _e78);
            let _e88 = (_e81 + 16i);
            let _e89 = (_e81 + 32i);
            let _e90 = (_e81 + 48i);
            local_6 = 0f;
            if (((_e80 < 1i) && (_e86 < 9i)) && _e82) {
                let _e98 = (_e86 % 9i);
                let _e108 = global_4.member[(((bitcast<i32>(_e51) + (((_e71 % 32i) + _e80) * 9i)) + ((_e98 / 3i) * 3i)) + (_e98 % 3i))];
                local_6 = _e108;
            }
            let _e109 = local_6;
            global_7[((_e79 * 17i) + _e78)] = _e109;
            local_6 = 0f;
            if (((_e87 < 9i) && (_e81 < 256i)) && _e82) {
                let _e120 = (_e87 % 9i);
                let _e126 = (((_e81 / 16i) + (_e120 / 3i)) + -1i);
                let _e128 = (((_e81 % 16i) + (_e120 % 3i)) + -1i);
                local_4 = 0f;
                if (((_e126 >= 0i) && (_e126 < 16i)) && ((_e128 >= 0i) && (_e128 < 16i))) {
                    let _e144 = global_3.member[(((_e47 + (((_e71 % 32i) + (_e87 / 9i)) * 256i)) + (_e126 * 16i)) + _e128)];
                    local_4 = _e144;
                }
                let _e145 = local_4;
                local_6 = _e145;
            }
            let _e146 = local_6;
            global_8[((_e78 * 64i) + _e79)] = _e146;
            local_6 = 0f;
            if (((_e87 < 9i) && (_e88 < 256i)) && _e82) {
                let _e157 = (_e87 % 9i);
                let _e163 = (((_e88 / 16i) + (_e157 / 3i)) + -1i);
                let _e165 = (((_e88 % 16i) + (_e157 % 3i)) + -1i);
                local_3 = 0f;
                if (((_e163 >= 0i) && (_e163 < 16i)) && ((_e165 >= 0i) && (_e165 < 16i))) {
                    let _e181 = global_3.member[(((_e47 + (((_e71 % 32i) + (_e87 / 9i)) * 256i)) + (_e163 * 16i)) + _e165)];
                    local_3 = _e181;
                }
                let _e182 = local_3;
                local_6 = _e182;
            }
            let _e183 = local_6;
            global_8[(((_e78 * 64i) + _e79) + 16i)] = _e183;
            local_6 = 0f;
            if (((_e87 < 9i) && (_e89 < 256i)) && _e82) {
                let _e195 = (_e87 % 9i);
                let _e201 = (((_e89 / 16i) + (_e195 / 3i)) + -1i);
                let _e203 = (((_e89 % 16i) + (_e195 % 3i)) + -1i);
                local_2 = 0f;
                if (((_e201 >= 0i) && (_e201 < 16i)) && ((_e203 >= 0i) && (_e203 < 16i))) {
                    let _e219 = global_3.member[(((_e47 + (((_e71 % 32i) + (_e87 / 9i)) * 256i)) + (_e201 * 16i)) + _e203)];
                    local_2 = _e219;
                }
                let _e220 = local_2;
                local_6 = _e220;
            }
            let _e221 = local_6;
            global_8[(((_e78 * 64i) + _e79) + 32i)] = _e221;
            local_6 = 0f;
            if (((_e87 < 9i) && (_e90 < 256i)) && _e82) {
                let _e233 = (_e87 % 9i);
                let _e239 = (((_e90 / 16i) + (_e233 / 3i)) + -1i);
                let _e241 = (((_e90 % 16i) + (_e233 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e239 >= 0i) && (_e239 < 16i)) && ((_e241 >= 0i) && (_e241 < 16i))) {
                    let _e257 = global_3.member[(((_e47 + (((_e71 % 32i) + (_e87 / 9i)) * 256i)) + (_e239 * 16i)) + _e241)];
                    local_1 = _e257;
                }
                let _e258 = local_1;
                local_6 = _e258;
            }
            let _e259 = local_6;
            global_8[(((_e78 * 64i) + _e79) + 48i)] = _e259;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e264 = local;
                if (_e264 < 16i) {
                    let _e266 = local;
                    let _e270 = global_7[((_e266 * 17i) + _e78)];
                    let _e272 = ((_e266 * 64i) + _e79);
                    let _e274 = global_8[_e272];
                    let _e277 = global_8[(_e272 + 16i)];
                    let _e280 = global_8[(_e272 + 32i)];
                    let _e283 = global_8[(_e272 + 48i)];
                    let _e285 = local_10;
                    local_10 = (_e285 + (_e270 * _e274));
                    let _e288 = local_9;
                    local_9 = (_e288 + (_e270 * _e277));
                    let _e291 = local_8;
                    local_8 = (_e291 + (_e270 * _e280));
                    let _e294 = local_7;
                    local_7 = (_e294 + (_e270 * _e283));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e296 = local;
                    local = (_e296 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e298 = local_5;
            local_5 = (_e298 + 16i);
        }
    }
    if (((_e80 < 1i) && (_e81 < 256i)) && _e82) {
        let _e304 = local_10;
        global_5.member[(((_e57 + (((_e71 % 32i) + _e80) * 256i)) + ((_e81 / 16i) * 16i)) + (_e81 % 16i))] = _e304;
    }
    let _e317 = (_e81 + 16i);
    if (((_e80 < 1i) && (_e317 < 256i)) && _e82) {
        let _e322 = local_9;
        global_5.member[(((_e57 + (((_e71 % 32i) + _e80) * 256i)) + ((_e317 / 16i) * 16i)) + (_e317 % 16i))] = _e322;
    }
    let _e335 = (_e81 + 32i);
    if (((_e80 < 1i) && (_e335 < 256i)) && _e82) {
        let _e340 = local_8;
        global_5.member[(((_e57 + (((_e71 % 32i) + _e80) * 256i)) + ((_e335 / 16i) * 16i)) + (_e335 % 16i))] = _e340;
    }
    let _e353 = (_e81 + 48i);
    if (((_e80 < 1i) && (_e353 < 256i)) && _e82) {
        let _e358 = local_7;
        global_5.member[(((_e57 + (((_e71 % 32i) + _e80) * 256i)) + ((_e353 / 16i) * 16i)) + (_e353 % 16i))] = _e358;
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_5_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 6: kernel dispatch_6_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<uniform> global_6: type_12;
var<workgroup> global_7: array<f32, 128>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: f32;

    let _e34 = global_6.member[0i][0i];
    let _e39 = global_6.member[0i][1i];
    let _e44 = global_6.member[0i][2i];
    let _e46 = global;
    let _e47 = global_2;
    let _e58 = global_1;
    let _e60 = bitcast<i32>(_e58.x);
    let _e61 = (_e60 % 128i);
    let _e63 = (bitcast<i32>(((((_e46.z * _e47.y) + _e46.y) * _e47.x) + _e46.x)) + (_e60 / 128i));
    let _e66 = (bitcast<u32>(_e63) < bitcast<u32>(32i));
    local_2 = 0f;
    local_1 = 0f;
    if _e66 {
        let _e67 = (_e63 % 32i);
        local = _e61;
        loop {
            let _e69 = local;
            if (_e69 < 256i) {
                let _e71 = local;
                let _e81 = global_3.member[(((bitcast<i32>(_e34) + (_e67 * 256i)) + ((_e71 / 16i) * 16i)) + (_e71 % 16i))];
                let _e85 = global_4.member[(bitcast<i32>(_e39) + _e67)];
                let _e86 = (_e81 + _e85);
                let _e93 = local_2;
                let _e94 = local_1;
                let _e95 = (select(0f, _e86, ((_e86 > 0f) || ((bitcast<u32>(_e86) & 2147483647u) > 2139095040u))) - _e94);
                let _e96 = (_e93 + _e95);
                local_1 = ((_e96 - _e93) - _e95);
                local_2 = _e96;
                continue;
            } else {
                break;
            }
            continuing {
                let _e99 = local;
                local = (_e99 + 128i);
            }
        }
    }
    let _e101 = local_2;
    global_7[_e60] = _e101;
    workgroupBarrier();
    if (_e61 < 64i) {
        let _e106 = global_7[_e60];
        let _e108 = global_7[(_e60 + 64i)];
        global_7[_e60] = (_e106 + _e108);
    }
    workgroupBarrier();
    if (_e61 < 32i) {
        let _e114 = global_7[_e60];
        let _e116 = global_7[(_e60 + 32i)];
        global_7[_e60] = (_e114 + _e116);
    }
    workgroupBarrier();
    if (_e61 < 16i) {
        let _e122 = global_7[_e60];
        let _e124 = global_7[(_e60 + 16i)];
        global_7[_e60] = (_e122 + _e124);
    }
    workgroupBarrier();
    if (_e61 < 8i) {
        let _e130 = global_7[_e60];
        let _e132 = global_7[(_e60 + 8i)];
        global_7[_e60] = (_e130 + _e132);
    }
    workgroupBarrier();
    if (_e61 < 4i) {
        let _e138 = global_7[_e60];
        let _e140 = global_7[(_e60 + 4i)];
        global_7[_e60] = (_e138 + _e140);
    }
    workgroupBarrier();
    if (_e61 < 2i) {
        let _e146 = global_7[_e60];
        let _e148 = global_7[(_e60 + 2i)];
        global_7[_e60] = (_e146 + _e148);
    }
    workgroupBarrier();
    if (_e61 < 1i) {
        let _e154 = global_7[_e60];
        let _e156 = global_7[(_e60 + 1i)];
        global_7[_e60] = (_e154 + _e156);
    }
    workgroupBarrier();
    let _e161 = global_7[(_e60 - _e61)];
    workgroupBarrier();
    if (_e66 && (_e61 == 0i)) {
        global_5.member[(bitcast<i32>(_e44) + (_e63 % 32i))] = (_e161 / 256f);
    }
    return;
}

@compute @workgroup_size(128, 1, 1) 
fn dispatch_6_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 7: kernel dispatch_7_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 272>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e34 = global_7.member[0i][0i];
    let _e39 = global_7.member[0i][1i];
    let _e44 = global_7.member[0i][2i];
    let _e49 = global_7.member[0i][3i];
    let _e51 = global;
    let _e52 = global_2;
    let _e62 = bitcast<i32>(((((_e51.z * _e52.y) + _e51.y) * _e52.x) + _e51.x));
    let _e67 = global_1;
    let _e69 = bitcast<i32>(_e67.x);
    let _e70 = (_e69 / 16i);
    let _e71 = (_e69 % 16i);
    let _e72 = (((_e62 % 1i) * 16i) + _e70);
    let _e73 = (((_e62 % 1i) * 16i) + _e71);
    let _e74 = (_e62 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e75 = local_1;
        if (_e75 < 32i) {
            let _e77 = local_1;
            let _e78 = (_e77 + _e71);
            let _e79 = (_e77 + _e70);
            local_2 = 0f;
            if (((_e72 < 1i) && (_e78 < 32i)) && _e74) {
                let _e87 = global_3.member[(bitcast<i32>(_e34) + _e78)];
                local_2 = _e87;
            }
            let _e88 = local_2;
            global_8[((_e71 * 17i) + _e70)] = _e88;
            local_2 = 0f;
            if (((_e79 < 32i) && (_e73 < 10i)) && _e74) {
                let _e101 = global_4.member[((bitcast<i32>(_e39) + (_e79 * 10i)) + _e73)];
                local_2 = _e101;
            }
            let _e102 = local_2;
            global_9[((_e70 * 16i) + _e71)] = _e102;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e106 = local;
                if (_e106 < 16i) {
                    let _e108 = local;
                    let _e112 = global_8[((_e108 * 17i) + _e70)];
                    let _e116 = global_9[((_e108 * 16i) + _e71)];
                    let _e118 = local_3;
                    local_3 = (_e118 + (_e112 * _e116));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e120 = local;
                    local = (_e120 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e122 = local_1;
            local_1 = (_e122 + 16i);
        }
    }
    if (((_e72 < 1i) && (_e73 < 10i)) && _e74) {
        let _e128 = local_3;
        let _e132 = global_6.member[(bitcast<i32>(_e49) + _e73)];
        global_5.member[(bitcast<i32>(_e44) + _e73)] = (_e128 + _e132);
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_7_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}
