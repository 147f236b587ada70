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
var<workgroup> global_10: array<f32, 256>;
var<workgroup> global_11: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e43 = global_9.member[0i][0i];
    let _e48 = global_9.member[0i][1i];
    let _e53 = global_9.member[0i][2i];
    let _e58 = global_9.member[0i][3i];
    let _e63 = global_9.member[1i][0i];
    let _e68 = global_9.member[1i][1i];
    let _e70 = global;
    let _e71 = global_2;
    let _e81 = bitcast<i32>(((((_e70.z * _e71.y) + _e70.y) * _e71.x) + _e70.x));
    let _e82 = global_1;
    let _e84 = bitcast<i32>(_e82.x);
    let _e85 = (_e84 / 16i);
    let _e86 = (_e84 % 16i);
    let _e88 = (_e81 / 256i);
    let _e91 = (((_e88 % 1i) * 16i) + _e85);
    let _e93 = (((_e81 % 256i) * 16i) + _e86);
    let _e94 = (_e88 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e95 = local_2;
        if (_e95 < 27i) {
            let _e97 = local_2;
            let _e98 = (_e97 + _e86);
            let _e99 = (_e97 + _e85);
            local_3 = 0f;
            if (((_e91 < 16i) && (_e98 < 27i)) && _e94) {
                let _e108 = (_e98 % 9i);
                let _e120 = global_4.member[((((bitcast<i32>(_e48) + ((((_e88 % 1i) * 16i) + _e91) * 27i)) + ((_e98 / 9i) * 9i)) + ((_e108 / 3i) * 3i)) + (_e108 % 3i))];
                local_3 = _e120;
            }
            let _e121 = local_3;
            global_10[_e84] = _e121;
            local_3 = 0f;
            if (((_e99 < 27i) && (_e93 < 4096i)) && _e94) {
                let _e129 = (_e99 % 9i);
                let _e135 = (((_e93 / 64i) + (_e129 / 3i)) + -1i);
                let _e137 = (((_e93 % 64i) + (_e129 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e135 >= 0i) && (_e135 < 64i)) && ((_e137 >= 0i) && (_e137 < 64i))) {
                    let _e154 = global_3.member[(((bitcast<i32>(_e43) + ((((_e88 % 1i) * 3i) + (_e99 / 9i)) * 4096i)) + (_e135 * 64i)) + _e137)];
                    local_1 = _e154;
                }
                let _e155 = local_1;
                local_3 = _e155;
            }
            let _e156 = local_3;
            global_11[_e84] = _e156;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e158 = local;
                if (_e158 < 16i) {
                    let _e160 = local;
                    let _e166 = global_10[((_e85 * 16i) + _e160)];
                    let _e168 = global_11[((_e160 * 16i) + _e86)];
                    let _e170 = local_4;
                    local_4 = (_e170 + (_e166 * _e168));
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
    if (((_e91 < 16i) && (_e93 < 4096i)) && _e94) {
        let _e180 = local_4;
        let _e183 = (((_e88 % 1i) * 16i) + _e91);
        let _e189 = global_6.member[(bitcast<i32>(_e58) + _e183)];
        let _e194 = global_7.member[(bitcast<i32>(_e63) + _e183)];
        let _e199 = global_8.member[(bitcast<i32>(_e68) + _e183)];
        let _e200 = (((_e180 + _e189) * _e194) + _e199);
        global_5.member[(((bitcast<i32>(_e53) + (_e183 * 4096i)) + ((_e93 / 64i) * 64i)) + (_e93 % 64i))] = select(0f, _e200, ((_e200 > 0f) || ((bitcast<u32>(_e200) & 2147483647u) > 2139095040u)));
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
var<workgroup> global_9: array<f32, 256>;
var<workgroup> global_10: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e42 = global_8.member[0i][0i];
    let _e47 = global_8.member[0i][1i];
    let _e52 = global_8.member[0i][2i];
    let _e57 = global_8.member[0i][3i];
    let _e62 = global_8.member[1i][0i];
    let _e64 = global;
    let _e65 = global_2;
    let _e75 = bitcast<i32>(((((_e64.z * _e65.y) + _e64.y) * _e65.x) + _e64.x));
    let _e76 = global_1;
    let _e78 = bitcast<i32>(_e76.x);
    let _e79 = (_e78 / 16i);
    let _e80 = (_e78 % 16i);
    let _e82 = (_e75 / 64i);
    let _e85 = (((_e82 % 1i) * 16i) + _e79);
    let _e87 = (((_e75 % 64i) * 16i) + _e80);
    let _e88 = (_e82 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e89 = local_2;
        if (_e89 < 144i) {
            let _e91 = local_2;
            let _e92 = (_e91 + _e80);
            let _e93 = (_e91 + _e79);
            local_3 = 0f;
            if (((_e85 < 16i) && (_e92 < 144i)) && _e88) {
                let _e102 = (_e92 % 9i);
                let _e114 = global_4.member[((((bitcast<i32>(_e47) + ((((_e82 % 1i) * 16i) + _e85) * 144i)) + ((_e92 / 9i) * 9i)) + ((_e102 / 3i) * 3i)) + (_e102 % 3i))];
                local_3 = _e114;
            }
            let _e115 = local_3;
            global_9[_e78] = _e115;
            local_3 = 0f;
            if (((_e93 < 144i) && (_e87 < 1024i)) && _e88) {
                let _e123 = (_e93 % 9i);
                let _e129 = (((_e87 / 32i) + (_e123 / 3i)) + -1i);
                let _e131 = (((_e87 % 32i) + (_e123 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e129 >= 0i) && (_e129 < 32i)) && ((_e131 >= 0i) && (_e131 < 32i))) {
                    let _e148 = global_3.member[(((bitcast<i32>(_e42) + ((((_e82 % 1i) * 16i) + (_e93 / 9i)) * 1024i)) + (_e129 * 32i)) + _e131)];
                    local_1 = _e148;
                }
                let _e149 = local_1;
                local_3 = _e149;
            }
            let _e150 = local_3;
            global_10[_e78] = _e150;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e152 = local;
                if (_e152 < 16i) {
                    let _e154 = local;
                    let _e160 = global_9[((_e79 * 16i) + _e154)];
                    let _e162 = global_10[((_e154 * 16i) + _e80)];
                    let _e164 = local_4;
                    local_4 = (_e164 + (_e160 * _e162));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e166 = local;
                    local = (_e166 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e168 = local_2;
            local_2 = (_e168 + 16i);
        }
    }
    if (((_e85 < 16i) && (_e87 < 1024i)) && _e88) {
        let _e174 = local_4;
        let _e177 = (((_e82 % 1i) * 16i) + _e85);
        let _e183 = global_6.member[(bitcast<i32>(_e57) + _e177)];
        let _e188 = global_7.member[(bitcast<i32>(_e62) + _e177)];
        let _e189 = ((_e174 * _e183) + _e188);
        global_5.member[(((bitcast<i32>(_e52) + (_e177 * 1024i)) + ((_e87 / 32i) * 32i)) + (_e87 % 32i))] = select(0f, _e189, ((_e189 > 0f) || ((bitcast<u32>(_e189) & 2147483647u) > 2139095040u)));
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
var<workgroup> global_10: array<f32, 256>;
var<workgroup> global_11: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e43 = global_9.member[0i][0i];
    let _e48 = global_9.member[0i][1i];
    let _e53 = global_9.member[0i][2i];
    let _e58 = global_9.member[0i][3i];
    let _e63 = global_9.member[1i][0i];
    let _e68 = global_9.member[1i][1i];
    let _e70 = global;
    let _e71 = global_2;
    let _e81 = bitcast<i32>(((((_e70.z * _e71.y) + _e70.y) * _e71.x) + _e70.x));
    let _e82 = global_1;
    let _e84 = bitcast<i32>(_e82.x);
    let _e85 = (_e84 / 16i);
    let _e86 = (_e84 % 16i);
    let _e88 = (_e81 / 64i);
    let _e91 = (((_e88 % 1i) * 16i) + _e85);
    let _e93 = (((_e81 % 64i) * 16i) + _e86);
    let _e94 = (_e88 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e95 = local_2;
        if (_e95 < 144i) {
            let _e97 = local_2;
            let _e98 = (_e97 + _e86);
            let _e99 = (_e97 + _e85);
            local_3 = 0f;
            if (((_e91 < 16i) && (_e98 < 144i)) && _e94) {
                let _e108 = (_e98 % 9i);
                let _e120 = global_4.member[((((bitcast<i32>(_e48) + ((((_e88 % 1i) * 16i) + _e91) * 144i)) + ((_e98 / 9i) * 9i)) + ((_e108 / 3i) * 3i)) + (_e108 % 3i))];
                local_3 = _e120;
            }
            let _e121 = local_3;
            global_10[_e84] = _e121;
            local_3 = 0f;
            if (((_e99 < 144i) && (_e93 < 1024i)) && _e94) {
                let _e129 = (_e99 % 9i);
                let _e135 = (((_e93 / 32i) + (_e129 / 3i)) + -1i);
                let _e137 = (((_e93 % 32i) + (_e129 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e135 >= 0i) && (_e135 < 32i)) && ((_e137 >= 0i) && (_e137 < 32i))) {
                    let _e154 = global_3.member[(((bitcast<i32>(_e43) + ((((_e88 % 1i) * 16i) + (_e99 / 9i)) * 1024i)) + (_e135 * 32i)) + _e137)];
                    local_1 = _e154;
                }
                let _e155 = local_1;
                local_3 = _e155;
            }
            let _e156 = local_3;
            global_11[_e84] = _e156;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e158 = local;
                if (_e158 < 16i) {
                    let _e160 = local;
                    let _e166 = global_10[((_e85 * 16i) + _e160)];
                    let _e168 = global_11[((_e160 * 16i) + _e86)];
                    let _e170 = local_4;
                    local_4 = (_e170 + (_e166 * _e168));
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
    if (((_e91 < 16i) && (_e93 < 1024i)) && _e94) {
        let _e180 = local_4;
        let _e183 = (((_e88 % 1i) * 16i) + _e91);
        let _e184 = (_e93 / 32i);
        let _e185 = (_e93 % 32i);
        let _e189 = global_6.member[(bitcast<i32>(_e58) + _e183)];
        let _e194 = global_7.member[(bitcast<i32>(_e63) + _e183)];
        let _e203 = global_8.member[(((bitcast<i32>(_e68) + (_e183 * 1024i)) + (_e184 * 32i)) + _e185)];
        let _e204 = (((_e180 * _e189) + _e194) + _e203);
        global_5.member[(((bitcast<i32>(_e53) + (_e183 * 1024i)) + (_e184 * 32i)) + _e185)] = select(0f, _e204, ((_e204 > 0f) || ((bitcast<u32>(_e204) & 2147483647u) > 2139095040u)));
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
var<workgroup> global_9: array<f32, 256>;
var<workgroup> global_10: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e43 = global_8.member[0i][0i];
    let _e48 = global_8.member[0i][1i];
    let _e53 = global_8.member[0i][2i];
    let _e58 = global_8.member[0i][3i];
    let _e63 = global_8.member[1i][0i];
    let _e65 = global;
    let _e66 = global_2;
    let _e76 = bitcast<i32>(((((_e65.z * _e66.y) + _e65.y) * _e66.x) + _e65.x));
    let _e77 = global_1;
    let _e79 = bitcast<i32>(_e77.x);
    let _e80 = (_e79 / 16i);
    let _e81 = (_e79 % 16i);
    let _e83 = (_e76 / 16i);
    let _e85 = (_e83 / 2i);
    let _e87 = (((_e83 % 2i) * 16i) + _e80);
    let _e89 = (((_e76 % 16i) * 16i) + _e81);
    let _e90 = (_e85 < 1i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e91 = local_2;
        if (_e91 < 144i) {
            let _e93 = local_2;
            let _e94 = (_e93 + _e81);
            let _e95 = (_e93 + _e80);
            local_3 = 0f;
            if (((_e87 < 32i) && (_e94 < 144i)) && _e90) {
                let _e104 = (_e94 % 9i);
                let _e116 = global_4.member[((((bitcast<i32>(_e48) + ((((_e85 % 1i) * 32i) + _e87) * 144i)) + ((_e94 / 9i) * 9i)) + ((_e104 / 3i) * 3i)) + (_e104 % 3i))];
                local_3 = _e116;
            }
            let _e117 = local_3;
            global_9[_e79] = _e117;
            local_3 = 0f;
            if (((_e95 < 144i) && (_e89 < 256i)) && _e90) {
                let _e125 = (_e95 % 9i);
                let _e132 = ((((_e89 / 16i) * 2i) + (_e125 / 3i)) + -1i);
                let _e135 = ((((_e89 % 16i) * 2i) + (_e125 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e132 >= 0i) && (_e132 < 32i)) && ((_e135 >= 0i) && (_e135 < 32i))) {
                    let _e152 = global_3.member[(((bitcast<i32>(_e43) + ((((_e85 % 1i) * 16i) + (_e95 / 9i)) * 1024i)) + (_e132 * 32i)) + _e135)];
                    local_1 = _e152;
                }
                let _e153 = local_1;
                local_3 = _e153;
            }
            let _e154 = local_3;
            global_10[_e79] = _e154;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e156 = local;
                if (_e156 < 16i) {
                    let _e158 = local;
                    let _e164 = global_9[((_e80 * 16i) + _e158)];
                    let _e166 = global_10[((_e158 * 16i) + _e81)];
                    let _e168 = local_4;
                    local_4 = (_e168 + (_e164 * _e166));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e170 = local;
                    local = (_e170 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e172 = local_2;
            local_2 = (_e172 + 16i);
        }
    }
    if (((_e87 < 32i) && (_e89 < 256i)) && _e90) {
        let _e178 = local_4;
        let _e181 = (((_e85 % 1i) * 32i) + _e87);
        let _e187 = global_6.member[(bitcast<i32>(_e58) + _e181)];
        let _e192 = global_7.member[(bitcast<i32>(_e63) + _e181)];
        let _e193 = ((_e178 * _e187) + _e192);
        global_5.member[(((bitcast<i32>(_e53) + (_e181 * 256i)) + ((_e89 / 16i) * 16i)) + (_e89 % 16i))] = select(0f, _e193, ((_e193 > 0f) || ((bitcast<u32>(_e193) & 2147483647u) > 2139095040u)));
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
var<workgroup> global_7: array<f32, 256>;
var<workgroup> global_8: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: f32;
    var local_2: i32;
    var local_3: f32;
    var local_4: f32;

    let _e34 = global_6.member[0i][0i];
    let _e39 = global_6.member[0i][1i];
    let _e44 = global_6.member[0i][2i];
    let _e46 = global;
    let _e47 = global_2;
    let _e57 = bitcast<i32>(((((_e46.z * _e47.y) + _e46.y) * _e47.x) + _e46.x));
    let _e58 = global_1;
    let _e60 = bitcast<i32>(_e58.x);
    let _e61 = (_e60 / 16i);
    let _e62 = (_e60 % 16i);
    let _e64 = (_e57 / 16i);
    let _e67 = (((_e64 % 1i) * 16i) + _e61);
    let _e69 = (((_e57 % 16i) * 16i) + _e62);
    let _e70 = (_e64 < 32i);
    local_4 = 0f;
    local_2 = 0i;
    loop {
        let _e71 = local_2;
        if (_e71 < 9i) {
            let _e73 = local_2;
            let _e74 = (_e73 + _e62);
            let _e75 = (_e73 + _e61);
            local_3 = 0f;
            if (((_e67 < 1i) && (_e74 < 9i)) && _e70) {
                let _e83 = (_e74 % 9i);
                let _e93 = global_4.member[(((bitcast<i32>(_e39) + (((_e64 % 32i) + _e67) * 9i)) + ((_e83 / 3i) * 3i)) + (_e83 % 3i))];
                local_3 = _e93;
            }
            let _e94 = local_3;
            global_7[_e60] = _e94;
            local_3 = 0f;
            if (((_e75 < 9i) && (_e69 < 256i)) && _e70) {
                let _e103 = (_e75 % 9i);
                let _e109 = (((_e69 / 16i) + (_e103 / 3i)) + -1i);
                let _e111 = (((_e69 % 16i) + (_e103 % 3i)) + -1i);
                local_1 = 0f;
                if (((_e109 >= 0i) && (_e109 < 16i)) && ((_e111 >= 0i) && (_e111 < 16i))) {
                    let _e127 = global_3.member[(((bitcast<i32>(_e34) + (((_e64 % 32i) + (_e75 / 9i)) * 256i)) + (_e109 * 16i)) + _e111)];
                    local_1 = _e127;
                }
                let _e128 = local_1;
                local_3 = _e128;
            }
            let _e129 = local_3;
            global_8[_e60] = _e129;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e131 = local;
                if (_e131 < 16i) {
                    let _e133 = local;
                    let _e139 = global_7[((_e61 * 16i) + _e133)];
                    let _e141 = global_8[((_e133 * 16i) + _e62)];
                    let _e143 = local_4;
                    local_4 = (_e143 + (_e139 * _e141));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e145 = local;
                    local = (_e145 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e147 = local_2;
            local_2 = (_e147 + 16i);
        }
    }
    if (((_e67 < 1i) && (_e69 < 256i)) && _e70) {
        let _e153 = local_4;
        global_5.member[(((bitcast<i32>(_e44) + (((_e64 % 32i) + _e67) * 256i)) + ((_e69 / 16i) * 16i)) + (_e69 % 16i))] = _e153;
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
var<workgroup> global_8: array<f32, 256>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e32 = global_7.member[0i][0i];
    let _e37 = global_7.member[0i][1i];
    let _e42 = global_7.member[0i][2i];
    let _e47 = global_7.member[0i][3i];
    let _e49 = global;
    let _e50 = global_2;
    let _e60 = bitcast<i32>(((((_e49.z * _e50.y) + _e49.y) * _e50.x) + _e49.x));
    let _e61 = global_1;
    let _e63 = bitcast<i32>(_e61.x);
    let _e64 = (_e63 / 16i);
    let _e65 = (_e63 % 16i);
    let _e69 = (((_e60 % 1i) * 16i) + _e64);
    let _e71 = (((_e60 % 1i) * 16i) + _e65);
    let _e72 = (_e60 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e73 = local_1;
        if (_e73 < 32i) {
            let _e75 = local_1;
            let _e76 = (_e75 + _e65);
            let _e77 = (_e75 + _e64);
            local_2 = 0f;
            if (((_e69 < 1i) && (_e76 < 32i)) && _e72) {
                let _e85 = global_3.member[(bitcast<i32>(_e32) + _e76)];
                local_2 = _e85;
            }
            let _e86 = local_2;
            global_8[_e63] = _e86;
            local_2 = 0f;
            if (((_e77 < 32i) && (_e71 < 10i)) && _e72) {
                let _e97 = global_4.member[((bitcast<i32>(_e37) + (_e77 * 10i)) + _e71)];
                local_2 = _e97;
            }
            let _e98 = local_2;
            global_9[_e63] = _e98;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e100 = local;
                if (_e100 < 16i) {
                    let _e102 = local;
                    let _e108 = global_8[((_e64 * 16i) + _e102)];
                    let _e110 = global_9[((_e102 * 16i) + _e65)];
                    let _e112 = local_3;
                    local_3 = (_e112 + (_e108 * _e110));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e114 = local;
                    local = (_e114 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e116 = local_1;
            local_1 = (_e116 + 16i);
        }
    }
    if (((_e69 < 1i) && (_e71 < 10i)) && _e72) {
        let _e122 = local_3;
        let _e126 = global_6.member[(bitcast<i32>(_e47) + _e71)];
        global_5.member[(bitcast<i32>(_e42) + _e71)] = (_e122 + _e126);
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
